#include "cli/app.h"

int main(int argc, char** argv) { return swarm::RunCli(argc, argv); }
