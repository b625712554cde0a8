// tools/payprovider/payprovider.py, the simulated payment provider, as a
// child process on a free loopback port (tests/support/python_peer.h).
#pragma once

#include <string>
#include <vector>

#include "tests/support/python_peer.h"

namespace saalbuch::testing_support {

class PayProvider : public PythonPeer {
 public:
  PayProvider(const std::string& api_key, const std::string& secret, const std::vector<std::string>& flags)
      : PythonPeer(SAALBUCH_TESTS_DIR "/../tools/payprovider/payprovider.py", Args(api_key, secret, flags)) {}

 private:
  static std::vector<std::string> Args(const std::string& api_key, const std::string& secret,
                                       std::vector<std::string> flags) {
    flags.insert(flags.begin(), {"--api-key", api_key, "--webhook-secret", secret});
    return flags;
  }
};

}  // namespace saalbuch::testing_support
