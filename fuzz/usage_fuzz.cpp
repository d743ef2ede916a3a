// The metering and billing readers on arbitrary bytes: CloudEvents bodies under each content
// type, JSON paths and values read from events, a Meter or Entitlement spec and an OpenMeter
// grant, a charge and its price for a quantity, and decimal money (Parse, arithmetic, rounding).

#include <cstddef>
#include <cstdint>
#include <string>

#include "hangar/billing/charges.hpp"
#include "hangar/billing/money.hpp"
#include "hangar/core/json.hpp"
#include "hangar/metering/entitlements.hpp"
#include "hangar/metering/events.hpp"
#include "hangar/metering/meter.hpp"

#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size > hangar::fuzz::kMaxInput) {
        return 0;
    }
    std::string_view bytes = hangar::fuzz::AsText(data, size);
    for (const char* type :
         {"application/cloudevents+json",
          "application/cloudevents-batch+json",
          "application/json"}) {
        if (auto events = hangar::metering::ReadCloudEvents(type, bytes, 1780000000000)) {
            for (const auto& e : *events) {
                (void)hangar::metering::EventToJson(e);
                (void)hangar::metering::ValueAt(e.data, {"tokens"});
            }
        }
    }
    for (std::string_view line : hangar::fuzz::Lines(bytes, 8)) {
        if (auto path = hangar::metering::ParseJsonPath(line)) {
            boost::json::object none;
            (void)hangar::metering::TextAt(none, *path);
        }
        if (auto d = hangar::billing::Decimal::Parse(line)) {
            (void)d->Times(*d);
            (void)d->Plus(*d);
            (void)d->TimesFraction(7, 31);
            (void)d->Round(2).ToString(2);
            (void)d->Ceil().ToString();
        }
        (void)hangar::metering::AddInterval(1780000000, line, 3);
    }
    if (auto o = hangar::core::ParseJsonObject(bytes)) {
        (void)hangar::metering::ValidateMeterSpec(*o);
        (void)hangar::metering::SpecFromMeterCreate(*o);
        (void)hangar::metering::ValidateEntitlementSpec(*o);
        (void)hangar::metering::ValidateFeatureSpec(*o);
        (void)hangar::metering::GrantFromOpenMeter(*o);
        if (auto c = hangar::billing::ReadCharge(*o, "charge")) {
            (void)hangar::billing::Price(*c, hangar::billing::Decimal::FromInt(12345));
            (void)hangar::billing::ChargeToJson(*c);
        }
    }
    return 0;
}
