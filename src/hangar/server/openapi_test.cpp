// The OpenAPI document and the router must agree: a route missing from the document, or a
// documented path nobody serves, fails here.

#include <set>

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "hangar/api/routes.hpp"
#include "hangar/server/assembly.hpp"

#include "server_process.hpp"

namespace hangar::server {

// The router `hangar serve` builds, from a data folder of its own.
TEST(OpenApi, DocumentsEveryRouteAndNothingElse) {
    testing::TempDir dir;
    Config cfg = Defaults();
    cfg.data_dir = dir.path() + "/data";
    cfg.provisioner = "simulated";
    auto assembly = Assembly::Build(cfg);
    ASSERT_TRUE(assembly) << assembly.error().message;
    http::Router& router = (*assembly)->router();

    boost::json::value doc = boost::json::parse(api::OpenApiDocument());
    ASSERT_EQ(doc.at("openapi").as_string(), "3.1.0");
    const auto& paths = doc.at("paths").as_object();
    std::set<std::pair<std::string, std::string>> documented;
    for (const auto& p : paths) {
        for (const auto& op : p.value().as_object()) {
            std::string method(op.key());
            if (method == "parameters") {
                continue;
            }
            for (char& c : method) {
                c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
            }
            documented.emplace(method, std::string(p.key()));
        }
    }
    std::set<std::pair<std::string, std::string>> routed;
    for (const auto& r : router.routes()) {
        routed.emplace(r.method, r.pattern);
        EXPECT_TRUE(documented.count({r.method, r.pattern}))
            << r.method << " " << r.pattern << " is not in docs/openapi.json";
    }
    for (const auto& d : documented) {
        EXPECT_TRUE(routed.count(d))
            << d.first << " " << d.second << " is documented but not served";
    }
}

// Every module's kinds are registered, each with a validator unless Hangar writes it itself.
TEST(Kinds, EveryModuleRegistersItsOwn) {
    testing::TempDir dir;
    Config cfg = Defaults();
    cfg.data_dir = dir.path() + "/data";
    cfg.provisioner = "simulated";
    auto assembly = Assembly::Build(cfg);
    ASSERT_TRUE(assembly) << assembly.error().message;
    std::set<std::string> modules;
    for (const registry::Kind* k : (*assembly)->kinds().All()) {
        modules.insert(k->module);
        EXPECT_TRUE(k->system_managed || k->validate) << k->name;
    }
    EXPECT_EQ(
        modules,
        (std::set<std::string>{
            "identity",
            "fleet",
            "observe",
            "alerting",
            "oncall",
            "incidents",
            "edge",
            "marketplace",
            "metering",
            "billing"})
    );
    EXPECT_EQ((*assembly)->kinds().ByPlural("instances")->module, "fleet");
}

}  // namespace hangar::server
