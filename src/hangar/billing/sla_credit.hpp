#pragma once
// The credit a month's SLA report (observe::SlaReport's answer) owes a tenant: the largest
// credit tier any of its instances fell into, with those instances and the incidents of the
// month that affected the tenant or them (Incident records, by their spec.affected).

#include <optional>
#include <string>

#include <boost/json/object.hpp>

#include "hangar/billing/invoice.hpp"
#include "hangar/store/store.hpp"

namespace hangar::billing {

std::optional<SlaCredit> CreditFromSlaReport(
    store::Store& store,
    const std::string& tenant,
    const std::string& month,
    const boost::json::object& report
);

}  // namespace hangar::billing
