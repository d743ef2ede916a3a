#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

#include "hangar/cli/client.hpp"

namespace hangar::cli {

// The documents of a fleet file as JSON (null for an empty document); bounded in depth and
// in values once aliases are expanded, so a hostile file cannot exhaust the stack or memory.
core::Result<std::vector<boost::json::value>> ParseFleetDocuments(std::string_view text);

// Prints what would change (plan) or changes it (apply); returns the exit code.
int PlanOrApply(
    Client& client,
    const std::vector<std::string>& files,
    bool apply,
    bool prune,
    const std::string& selector
);

}  // namespace hangar::cli
