#pragma once
// Kubernetes-style label selectors: "env=prod,tier!=db,team in (a,b),region notin
// (x),canary,!legacy".

#include <string>
#include <string_view>
#include <vector>

#include "hangar/core/error.hpp"
#include "hangar/store/types.hpp"

namespace hangar::store {

struct Requirement {
    enum class Op { kEquals, kNotEquals, kIn, kNotIn, kExists, kNotExists };
    std::string key;
    Op op = Op::kEquals;
    std::vector<std::string> values;
};

class Selector {
public:
    static core::Result<Selector> Parse(std::string_view text);
    bool Matches(const Labels& labels) const;
    bool empty() const { return reqs_.empty(); }

private:
    std::vector<Requirement> reqs_;
};

// Label keys: optional "prefix/" then a name of [A-Za-z0-9._-], 1..63, alphanumeric at both ends.
bool IsValidLabelKey(std::string_view key);
bool IsValidLabelValue(std::string_view value);

}  // namespace hangar::store
