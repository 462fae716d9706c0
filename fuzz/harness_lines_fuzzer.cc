// The four harness adapters' stdout line parsers: the first byte picks the CLI, the rest is
// fed line by line, then the run is finished.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "harness/adapter.h"
#include "harness/process_runner.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace swarm::harness;
  if (size == 0) return 0;
  constexpr Provider kProviders[] = {Provider::kClaude, Provider::kCodex, Provider::kOpencode,
                                     Provider::kPi};
  auto adapter = MakeAdapter(kProviders[data[0] % 4]);
  auto parser = adapter->NewParser();
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  while (!rest.empty()) {
    const std::size_t end = rest.find('\n');
    parser->Feed(rest.substr(0, end));
    if (end == std::string_view::npos) break;
    rest.remove_prefix(end + 1);
  }
  (void)parser->session_id();
  (void)parser->Finish(ProcessOutcome{});
  return 0;
}
