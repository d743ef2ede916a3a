#include "cloud_client.hpp"

#include <atomic>
#include <chrono>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include <curl/curl.h>
#include <sodium.h>

#include <boost/json.hpp>

namespace workspace {

namespace json = boost::json;

namespace {

std::mutex g_mu;
json::object g_state{{"state", "starting"}};
CloudConfig g_cfg;

void Set(std::string_view key, json::value v) {
    std::lock_guard lock(g_mu);
    g_state[key] = std::move(v);
}
void Set(std::string_view key, const std::string& v) {
    Set(key, json::value(json::string(v)));
}
void Set(std::string_view key, const char* v) {
    Set(key, json::value(json::string(v)));
}

size_t Collect(char* p, size_t n, size_t m, void* out) {
    static_cast<std::string*>(out)->append(p, n * m);
    return n * m;
}

struct Reply {
    long status = 0;
    std::string body;
};

Reply Call(
    const std::string& method,
    const std::string& url,
    const std::string& body,
    const std::string& content_type,
    const std::string& bearer
) {
    Reply r;
    CURL* c = curl_easy_init();
    curl_slist* h = nullptr;
    h = curl_slist_append(h, ("Content-Type: " + content_type).c_str());
    if (!bearer.empty()) {
        h = curl_slist_append(h, ("Authorization: Bearer " + bearer).c_str());
    }
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
    if (method == "POST") {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, Collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r.body);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (curl_easy_perform(c) == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    } else {
        r.body = "connection failed";
    }
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return r;
}

std::string Str(const json::object& o, std::string_view k) {
    const json::value* v = o.if_contains(k);
    return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

// "<base64url(payload)>.<base64url(signature)>" checked against the standard-base64 key.
bool VerifySigned(
    const std::string& signed_text,
    const std::string& public_b64,
    std::string& payload
) {
    unsigned char pk[crypto_sign_PUBLICKEYBYTES];
    size_t len = 0;
    if (sodium_base642bin(
            pk,
            sizeof(pk),
            public_b64.data(),
            public_b64.size(),
            nullptr,
            &len,
            nullptr,
            sodium_base64_VARIANT_ORIGINAL
        ) != 0 ||
        len != sizeof(pk)) {
        return false;
    }
    size_t dot = signed_text.find('.');
    if (dot == std::string::npos) {
        return false;
    }
    auto decode = [](std::string_view in, std::string& out) {
        out.assign(in.size(), '\0');
        size_t n = 0;
        if (sodium_base642bin(
                reinterpret_cast<unsigned char*>(out.data()),
                out.size(),
                in.data(),
                in.size(),
                nullptr,
                &n,
                nullptr,
                sodium_base64_VARIANT_URLSAFE_NO_PADDING
            ) != 0) {
            return false;
        }
        out.resize(n);
        return true;
    };
    std::string sig;
    if (!decode(std::string_view(signed_text).substr(0, dot), payload) ||
        !decode(std::string_view(signed_text).substr(dot + 1), sig) ||
        sig.size() != crypto_sign_BYTES) {
        return false;
    }
    return crypto_sign_verify_detached(
               reinterpret_cast<const unsigned char*>(sig.data()),
               reinterpret_cast<const unsigned char*>(payload.data()),
               payload.size(),
               pk
           ) == 0;
}

json::object Record(const CloudConfig& cfg) {
    return json::object{
        {"uniqueId", cfg.unique_id},
        {"address", cfg.address},
        {"siteName", cfg.site_name},
        {"contactEmail", "admin@example.test"},
        {"seats", 42},
        {"MAC", 7},
        {"workspaceType", "community"},
        {"deploymentMethod", "hangar"},
        {"deploymentPlatform", "linux"},
        {"version", cfg.version},
        {"setupComplete", true},
        {"connectionDisable", false},
    };
}

// A statistics document shaped like a chat server's: the indexed fields and some 30 KB of the rest.
std::string StatisticsDocument(const CloudConfig& cfg, int day) {
    json::object doc{
        {"uniqueId", cfg.unique_id},
        {"version", cfg.version},
        {"installedAt", "2026-01-01T00:00:00.000Z"},
        {"totalUsers", 120},
        {"activeUsers", 42 + day},
        {"totalMessages", 10000 + day * 100},
        {"deploy", json::object{{"method", "hangar"}, {"platform", "linux"}}},
        {"push", 5 * day},
        {"host", cfg.address},
    };
    json::array rooms;
    for (int i = 0; i < 300; ++i) {
        rooms.push_back(json::object{
            {"id", "room-" + std::to_string(i)},
            {"messages", i * 7 + day},
            {"type", i % 3 == 0 ? "c" : "p"},
            {"lastActivity", "2026-11-2" + std::to_string(i % 10) + "T10:00:00.000Z"}});
    }
    doc["rooms"] = std::move(rooms);
    return json::serialize(doc);
}

bool LoadState(const CloudConfig& cfg, json::object& creds) {
    std::ifstream in(cfg.state_file);
    if (!in) {
        return false;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    boost::system::error_code ec;
    json::value v = json::parse(ss.str(), ec);
    if (ec || !v.is_object()) {
        return false;
    }
    creds = v.as_object();
    return !Str(creds, "client_id").empty();
}

void Loop(CloudConfig cfg) {
    json::object creds;
    if (!LoadState(cfg, creds)) {
        Set("state", "registering");
        json::object body{
            {"email", "admin@example.test"},
            {"client_name", cfg.site_name},
            {"redirect_uris", json::array{cfg.address + "/admin/cloud/oauth-callback"}}};
        Reply r = Call(
            "POST",
            cfg.cloud_url + "/api/oauth/clients",
            json::serialize(body),
            "application/json",
            cfg.registration_token
        );
        if (r.status != 201) {
            Set("state", "error");
            Set("last_error", "registration answered " + std::to_string(r.status) + ": " + r.body);
            return;
        }
        creds = json::parse(r.body).as_object();
        std::ofstream(cfg.state_file) << json::serialize(creds);
    }
    Set("workspace_id", Str(creds, "workspaceId"));
    for (int day = 0; !Str(creds, "client_id").empty(); ++day) {
        std::string form = "client_id=" + Str(creds, "client_id") +
                           "&client_secret=" + Str(creds, "client_secret") +
                           "&grant_type=client_credentials&scope=workspace:license:read%"
                           "20workspace:stats:write%20workspace:push:send&redirect_uri=";
        Reply t = Call(
            "POST",
            cfg.cloud_url + "/api/oauth/token",
            form,
            "application/x-www-form-urlencoded",
            ""
        );
        if (t.status != 200) {
            Set("state", "error");
            Set("last_error", "token answered " + std::to_string(t.status) + ": " + t.body);
            return;
        }
        std::string access = Str(json::parse(t.body).as_object(), "access_token");
        Set("access_token", access);
        Reply s = Call(
            "POST",
            Str(creds, "registration_client_uri") + "/sync",
            json::serialize(Record(cfg)),
            "application/json",
            access
        );
        if (s.status != 200) {
            Set("state", "error");
            Set("last_error", "sync answered " + std::to_string(s.status) + ": " + s.body);
            return;
        }
        json::object sync = json::parse(s.body).as_object();
        std::string payload;
        bool ok = VerifySigned(Str(sync, "hangarLicense"), Str(creds, "publicKey"), payload);
        Set("license_verified", ok);
        if (ok) {
            Set("license", json::parse(payload));
        }
        Set("syncs", day + 1);
        std::string collector =
            cfg.collector_url.empty() ? cfg.cloud_url + "/collector" : cfg.collector_url;
        Reply st =
            Call("POST", collector, StatisticsDocument(cfg, day), "application/json", access);
        if (st.status == 200) {
            std::string token = Str(json::parse(st.body).as_object(), "statsToken");
            std::string tp;
            Set("stats_token", token);
            Set("stats_token_verified", VerifySigned(token, Str(creds, "publicKey"), tp));
        } else {
            Set("last_error", "collector answered " + std::to_string(st.status) + ": " + st.body);
        }
        Set("state", "registered");
        std::this_thread::sleep_for(std::chrono::seconds(cfg.sync_seconds));
    }
}

}  // namespace

long Push(
    const std::string& service,
    const std::string& device_token,
    bool id_only,
    std::string& body
) {
    std::string access;
    {
        std::lock_guard lock(g_mu);
        access = Str(g_state, "access_token");
    }
    if (access.empty()) {
        body = R"({"error":"not registered with a cloud"})";
        return 503;
    }
    json::object payload{
        {"host", g_cfg.address},
        {"messageId", "msg-42"},
        {"rid", "GENERAL"},
        {"type", "c"},
        {"sender", json::object{{"_id", "u1"}, {"username", "alice"}}},
        {"notificationType", id_only ? "message-id-only" : "message"}};
    json::object options{
        {"uniqueId", g_cfg.unique_id},
        {"from", "push"},
        {"badge", 1},
        {"sound", "default"},
        {"notId", 12345},
        {"title", id_only ? "You have a new message" : "alice"},
        {"text", id_only ? "" : "Lunch at noon?"},
        {"userId", "u2"},
        {"createdAt", "2026-11-23T12:00:00.000Z"},
        {"createdBy", "<SERVER>"},
        {"payload", payload}};
    if (service == "apn") {
        options["topic"] = "chat.hangar.ios";
        options["apn"] = json::object{{"category", "MESSAGE"}};
    } else {
        options["gcm"] =
            json::object{{"style", "inbox"}, {"image", "https://example.test/icon.png"}};
    }
    Reply r = Call(
        "POST",
        g_cfg.cloud_url + "/push/" + service + "/send",
        json::serialize(json::object{{"token", device_token}, {"options", options}}),
        "application/json",
        access
    );
    body = r.body;
    return r.status;
}

void StartCloud(CloudConfig cfg) {
    g_cfg = cfg;
    if (cfg.cloud_url.empty()) {
        Set("state", "disabled");
        return;
    }
    if (sodium_init() < 0) {
        Set("state", "error");
        return;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    std::thread([cfg = std::move(cfg)] {
        try {
            Loop(cfg);
        } catch (const std::exception& e) {
            Set("state", "error");
            Set("last_error", e.what());
        }
    }).detach();
}

std::string CloudStateJson() {
    std::lock_guard lock(g_mu);
    json::object shown = g_state;
    shown.erase("access_token");  // a bearer credential: the page shows the rest
    return json::serialize(shown);
}

}  // namespace workspace
