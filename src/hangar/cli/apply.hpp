#pragma once

#include <string>
#include <vector>

#include "hangar/cli/client.hpp"

namespace hangar::cli {

// Prints what would change (plan) or changes it (apply); returns the exit code.
int PlanOrApply(Client& client, const std::vector<std::string>& files, bool apply, bool prune, const std::string& selector);

}  // namespace hangar::cli
