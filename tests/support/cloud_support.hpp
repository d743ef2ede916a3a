#pragma once
// The workspace side of registration, for tests and benchmark drivers that need a registered
// workspace and an access token rather than to test each step.

#include <string>

#include <boost/json.hpp>

#include "bench_support.hpp"
#include "http_client.hpp"

namespace hangar::testing {

struct RegisteredWorkspace {
    std::string id, secret, access;
};

// Creates workspace `name` with `op` (an operator's client), registers it with a one-time
// registration token, and gets an access token for `scope` ("": every scope it may hold).
inline RegisteredWorkspace
RegisterWorkspace(Client& op, const std::string& name, const std::string& scope) {
    RegisteredWorkspace w;
    auto c = op.Do(
        "POST",
        "/v1/workspaces",
        boost::json::serialize(boost::json::object{
            {"metadata", {{"name", name}}}, {"spec", boost::json::object{}}})
    );
    w.id = Str(c.Json(), {"metadata", "id"});
    std::string token =
        Str(op.Do("POST", "/v1/workspaces/" + w.id + ":registration-token").Json(), {"token"});
    auto creds = op.Do("POST", "/api/oauth/clients", "{}", {{"Authorization", "Bearer " + token}});
    w.secret = Str(creds.Json(), {"client_secret"});
    auto t = op.Do(
        "POST",
        "/api/oauth/token",
        "client_id=" + w.id + "&client_secret=" + w.secret +
            "&grant_type=client_credentials&scope=" + scope,
        {{"Content-Type", "application/x-www-form-urlencoded"}}
    );
    w.access = Str(t.Json(), {"access_token"});
    return w;
}

}  // namespace hangar::testing
