#pragma once
// The kinds Hangar serves. Each domain module registers the kinds it owns at start-up
// (fleet::RegisterKinds, alerting::RegisterKinds, ...); the API serves every registered kind
// through one machinery, GET /v1/kinds lists them, and the CLI reads that list. Nothing else
// lists kinds by hand.

#include <memory>
#include <string_view>
#include <vector>

#include <boost/json/array.hpp>

#include "hangar/registry/kind.hpp"

namespace hangar::registry {

class Registry {
public:
    // Adds a kind. Its name, plural and prefix must be new, well-formed, and its hooks
    // consistent (a validator unless system-managed); a bad registration is a programming
    // error and throws std::logic_error at start-up.
    const Kind& Add(Kind kind);

    const Kind* ByPlural(std::string_view plural) const;
    const Kind* ByName(std::string_view name) const;
    // In registration order.
    std::vector<const Kind*> All() const;

    // What GET /v1/kinds answers: each kind's names, scope, roles, actions and columns.
    boost::json::array Describe() const;

private:
    std::vector<std::unique_ptr<Kind>> kinds_;
};

// The table columns a kind without its own shows.
const std::vector<Column>& DefaultColumns();

}  // namespace hangar::registry
