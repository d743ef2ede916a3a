#pragma once
// App requests: a workspace user asks their admins to install an app. A stock server opens
// <marketplace>/apps/<id>/requestAccess in a frame (with the workspace, the requester and the
// admins, base64 JSON, in the query); the page's form records an AppRequest. The server then
// lists them (/v1/app-request), counts them (/stats), marks them seen, and twice a day asks
// which installed apps have requesters to tell (/sent/pending, /markAsSent/<app>).

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "hangar/core/clock.hpp"
#include "hangar/core/error.hpp"
#include "hangar/store/store.hpp"

namespace hangar::marketplace {

namespace json = boost::json;

// What the request page carries: the query a stock server builds, and the user's message.
struct RequestForm {
    std::string app_id;
    std::string workspace;  // its Workspace object id
    std::string tenant;     // the workspace's tenant
    std::string requester;  // base64 JSON {id, username, name, nickname, emails}
    std::string admins;     // base64 JSON [{id, username, name, nickname}]
    std::string message;
};

// The requester and admins read from a page's query: {requester, admins}, or a field error.
core::Result<json::object> ReadRequestPeople(const RequestForm& form);

class AppRequests {
public:
    AppRequests(store::Store& store, const core::Clock& clock) : store_(store), clock_(clock) {}

    // Records a request (one per requester, app and workspace: asking again renews it).
    core::Result<store::Object> Create(const RequestForm& form);
    // GET /v1/app-request?appId=&q=&sort=&limit=&offset=: {data: [AppRequest], meta}.
    // q: unseen, seen, notification-sent, notification-not-sent or "".
    core::Result<json::object> List(
        const std::string& workspace,
        const std::string& tenant,
        std::string_view app_id,
        std::string_view filter,
        std::string_view sort,
        int64_t limit,
        int64_t offset
    );
    // GET /v1/app-request/stats: {data: {totalSeen, totalUnseen}}.
    core::Result<json::object> Stats(const std::string& workspace, const std::string& tenant);
    // POST /v1/app-request/markAsSeen {ids}: the workspace's requests among `ids`.
    core::Result<int64_t> MarkSeen(
        const std::string& workspace,
        const std::string& tenant,
        const std::vector<std::string>& ids
    );
    // GET /v1/app-request/sent/pending: the app ids with requesters not yet told.
    core::Result<json::array> PendingApps(const std::string& workspace, const std::string& tenant);
    // POST /v1/app-request/markAsSent/<appId> (all of its requesters), or
    // POST /v1/app-request/markAsSent {appId, userIds} (older servers: those requesters).
    core::Result<int64_t> MarkSent(
        const std::string& workspace,
        const std::string& tenant,
        std::string_view app_id,
        const std::vector<std::string>* user_ids
    );

private:
    core::Result<std::vector<store::Object>>
    OfWorkspace(const std::string& workspace, const std::string& tenant);
    // Sets status.<flag> (and <flag>_at) on the workspace's requests `pick` chooses that do not
    // have it yet; how many.
    core::Result<int64_t> Mark(
        const std::string& workspace,
        const std::string& tenant,
        const std::string& flag,
        const std::function<bool(const store::Object&)>& pick
    );
    store::Store& store_;
    const core::Clock& clock_;
};

// An AppRequest object as the contract shows it.
json::object RequestToJson(const store::Object& o);

}  // namespace hangar::marketplace
