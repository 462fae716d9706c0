#include "core/ids.h"

#include <random>

#include <boost/uuid/random_generator.hpp>
#include <boost/uuid/uuid_io.hpp>

namespace swarm {

std::string NewUuid() {
  // One generator per thread, seeded once from the OS: boost's default generator asks the
  // kernel for fresh bytes on every call, a syscall per id on the task-creation hot path.
  // mt19937_64 is not cryptographic; ids are identifiers, never secrets.
  thread_local std::mt19937_64 engine{[] {
    std::random_device device;
    std::seed_seq seed{device(), device(), device(), device(), device(), device()};
    return std::mt19937_64(seed);
  }()};
  thread_local boost::uuids::basic_random_generator<std::mt19937_64> generator(engine);
  return boost::uuids::to_string(generator());
}

}  // namespace swarm
