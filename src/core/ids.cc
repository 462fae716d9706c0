#include "core/ids.h"

#include <boost/uuid/random_generator.hpp>
#include <boost/uuid/uuid_io.hpp>

namespace swarm {

std::string NewUuid() {
  // One generator per thread: the generator is not thread-safe and seeding is costly.
  thread_local boost::uuids::random_generator generator;
  return boost::uuids::to_string(generator());
}

}  // namespace swarm
