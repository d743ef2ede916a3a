#pragma once
// Operator announcements: a banner (or modal) a platform operator writes once and every workspace
// in its audience shows, delivered through the comms call a stock server makes before each sync
// (POST /api/v3/comms/workspace, protocols/workspace-cloud.md section 7). Each announcement goes
// to a workspace once (the workspace remembers when it last fetched comms); a withdrawn one is
// sent as a delete so the server disables its banner. Interactions (a click, a dismissal, a
// submitted form) come back on .../interaction and are counted on the announcement.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "hangar/core/clock.hpp"
#include "hangar/core/error.hpp"
#include "hangar/store/store.hpp"

namespace hangar::edge {

namespace json = boost::json;

// Announcement: {title?, text, severity: info|warning|critical, surface?: banner|modal,
//   link?: {url, label?}, platforms?: [web, mobile], roles?: [...] (default ["admin"]),
//   audience?: {tenants?: [ids], plans?: [names], versions?: {min?, below?}},
//   starts_at?, ends_at, withdrawn?}
core::Result<json::object> ValidateAnnouncementSpec(const json::object& spec);

// Who a workspace is, for an audience.
struct AudienceMember {
    std::string tenant, plan, version;
};
// "6.10.2" against "6.9" compares 6.10.2 > 6.9.0: numeric parts, missing ones 0, anything after
// the first non-digit of a part ignored ("7.0.0-rc.1" is 7.0.0).
int CompareVersions(std::string_view a, std::string_view b);
// An empty audience (or an absent part of it) is everyone.
bool InAudience(const json::object& spec, const AudienceMember& who);

// The stock server's banner for an announcement (IBanner plus createdBy and selector).
json::object BannerFor(const store::Object& announcement);

struct CommsDelivery {
    json::array create;                  // banners
    json::array del;                     // ids of withdrawn announcements it holds
    std::vector<std::string> delivered;  // ids in `create`
    json::object held;  // what the workspace holds afterwards: announcement id -> generation
};
// What a workspace gets now, given what it holds (`held`, from its last comms): live
// announcements for it that it does not hold at their current generation, and deletes for the
// withdrawn ones it holds. Ended and deleted announcements drop out of `held`.
CommsDelivery DeliveryFor(
    const std::vector<store::Object>& announcements,
    const AudienceMember& who,
    const json::object& held,
    core::TimePoint now
);

// An interaction a stock server reports: which announcement and what happened
// ("clicked", "dismissed", "submitted"), with the trigger id to echo.
struct Interaction {
    std::string announcement, what, trigger_id;
};
std::optional<Interaction> ReadInteraction(const json::object& body);

}  // namespace hangar::edge
