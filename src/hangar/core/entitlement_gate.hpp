#pragma once
// Where usage happens, a module asks whether the tenant is entitled to it before it happens
// (a push sent, an app downloaded). The metering module answers from the tenant's entitlement
// to the feature; without one, the tenant is not limited by it. Modules hold an
// EntitlementGate& and never know about metering; the open gate allows everything.

#include <string>
#include <string_view>

namespace hangar::core {

struct GateAnswer {
    enum Kind { kAllowed, kDenied, kWouldBlock } kind = kAllowed;
    std::string reason;  // kDenied: why, for the caller
};

class EntitlementGate {
public:
    virtual ~EntitlementGate() = default;
    // `may_block` false: answer only from memory (kWouldBlock when it would have to read).
    virtual GateAnswer Check(std::string_view tenant, std::string_view feature, bool may_block) = 0;
};

class OpenGate final : public EntitlementGate {
public:
    GateAnswer Check(std::string_view, std::string_view, bool) override { return {}; }
};

}  // namespace hangar::core
