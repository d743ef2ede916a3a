#include "hangar/edge/workspaces.hpp"

#include <algorithm>
#include <array>
#include <charconv>

#include <fmt/format.h>
#include <sodium.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "hangar/core/ids.hpp"
#include "hangar/core/json.hpp"
#include "hangar/core/log.hpp"
#include "hangar/core/strings.hpp"
#include "hangar/core/validate.hpp"

namespace hangar::edge {

namespace {

using core::ErrorCode;
using core::Fail;

constexpr std::array<std::string_view, 9> kScopeNames = {
    "workspace:license:read",
    "workspace:client:write",
    "workspace:stats:write",
    "workspace:push:send",
    "marketplace:read",
    "marketplace:download",
    "marketplace:purchase",
    "fedhub:register",
    "workspace:billing",
};
constexpr size_t kRecordLimit = size_t{64} * 1024;
constexpr int64_t kMaxPendingIntents = 1000;
constexpr std::string_view kUserCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ";  // no vowels: no words

// "Bearer <token>" → the token (spaces around it allowed); empty when the header is missing or
// another scheme.
std::string_view BearerOf(std::string_view authorization) {
    return core::TrimSpaces(core::BearerCredential(authorization));
}

std::string NewSecret() {
    return core::NewSecretToken().substr(4);
}  // 43 url-safe characters

std::string NewUserCode() {
    std::string code;
    for (int i = 0; i < 8; ++i) {
        if (i == 4) {
            code.push_back('-');
        }
        code.push_back(
            kUserCodeAlphabet[randombytes_uniform(static_cast<uint32_t>(kUserCodeAlphabet.size()))]
        );
    }
    return code;
}

// "abcd-efgh", "ABCDEFGH" and " abcd efgh " name the same code; the stored form is lower case.
std::optional<std::string> NormalizeUserCode(std::string_view in) {
    std::string letters;
    for (char c : in) {
        if (c == '-' || c == ' ') {
            continue;
        }
        char u = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        if (kUserCodeAlphabet.find(u) == std::string_view::npos || letters.size() == 8) {
            return std::nullopt;
        }
        letters.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(u))));
    }
    if (letters.size() != 8) {
        return std::nullopt;
    }
    return letters.substr(0, 4) + "-" + letters.substr(4);
}

// A DNS-label name from free text ("Acme Chat!" → "acme-chat").
std::string Slug(std::string_view text) {
    std::string out;
    for (char c : text) {
        auto u = static_cast<unsigned char>(c);
        if (std::isalnum(u) != 0 && u < 0x80) {
            out.push_back(static_cast<char>(std::tolower(u)));
        } else if (!out.empty() && out.back() != '-') {
            out.push_back('-');
        }
        if (out.size() >= 50) {
            break;
        }
    }
    while (!out.empty() && out.back() == '-') {
        out.pop_back();
    }
    return out;
}

json::object& StatusObj(store::Object& o, std::string_view key) {
    json::value& v = o.status[key];
    if (!v.is_object()) {
        v = json::object();
    }
    return v.as_object();
}

}  // namespace

int64_t UnixNow(const core::Clock& clock) {
    return core::UnixSeconds(clock.Now());
}

std::string Rfc3339(int64_t unix) {
    return core::FormatRfc3339(core::TimePoint(std::chrono::seconds(unix)));
}

bool SplitSecret(
    std::string_view token,
    std::string_view prefix,
    std::string_view id_prefix,
    std::string& id,
    std::string& secret
) {
    if (!token.starts_with(prefix)) {
        return false;
    }
    token.remove_prefix(prefix.size());
    size_t dot = token.find('.');
    if (dot == std::string_view::npos) {
        return false;
    }
    id = std::string(token.substr(0, dot));
    secret = std::string(token.substr(dot + 1));
    return core::IsValidId(id, id_prefix) && secret.size() >= 32 && secret.size() <= 64;
}

EdgeError StoreTrouble(const core::Error& e) {
    int status =
        e.code == ErrorCode::kUnavailable || e.code == ErrorCode::kTooManyRequests ? 503 : 500;
    return EdgeError{status, "server_error", e.message};
}

uint32_t ScopeFromName(std::string_view name) {
    for (size_t i = 0; i < kScopeNames.size(); ++i) {
        if (kScopeNames[i] == name) {
            return 1U << i;
        }
    }
    return 0;
}

std::string ScopeString(uint32_t bits) {
    std::string out;
    for (size_t i = 0; i < kScopeNames.size(); ++i) {
        if ((bits & (1U << i)) != 0) {
            if (!out.empty()) {
                out.push_back(' ');
            }
            out += kScopeNames[i];
        }
    }
    return out;
}

// "scopes": a list of scope names, copied to out.
static void ReadScopes(core::ObjectReader& r, json::object& out, std::string_view path) {
    if (const json::array* scopes = r.Array("scopes")) {
        json::array s;
        for (const auto& v : *scopes) {
            if (!v.is_string() || ScopeFromName(v.as_string()) == 0) {
                r.SetError(
                    std::string(path),
                    fmt::format("must name scopes from: {}", ScopeString(kAllScopes))
                );
                break;
            }
            s.push_back(v);
        }
        out["scopes"] = std::move(s);
    }
}

core::Result<json::object> ValidateProductWorkspace(const json::object& block) {
    core::ObjectReader r(block, "spec.workspace");
    json::object out;
    ReadScopes(r, out, "spec.workspace.scopes");
    if (auto f = r.Finish(); !f) {
        return Fail(f.error());
    }
    return out;
}

core::Result<json::object> ValidateWorkspaceSpec(const json::object& spec) {
    core::ObjectReader r(spec, "spec");
    json::object out;
    if (auto d = r.String("display_name")) {
        if (d->size() > 200) {
            r.SetError("spec.display_name", "must be at most 200 characters");
        }
        out["display_name"] = *d;
    }
    ReadScopes(r, out, "spec.scopes");
    if (auto i = r.String("instance")) {
        if (!core::IsValidId(*i, "ins")) {
            r.SetError("spec.instance", "must be an instance id (ins_...)");
        }
        out["instance"] = *i;
    }
    if (auto p = r.String("plan")) {
        if (p->empty() || p->size() > 63) {
            r.SetError("spec.plan", "must be a plan name");
        }
        out["plan"] = *p;
    }
    if (auto d = r.Bool("disabled")) {
        out["disabled"] = *d;
    }
    if (auto f = r.Finish(); !f) {
        return Fail(f.error());
    }
    return out;
}

EdgeResult<json::object> ReadRegistrationRecord(std::string_view body) {
    if (body.size() > kRecordLimit) {
        return EdgeFail(
            413,
            "payload_too_large",
            fmt::format("the registration record is limited to {} bytes", kRecordLimit)
        );
    }
    auto parsed = core::ParseJsonObject(body);
    if (!parsed) {
        return EdgeFail(
            400,
            "invalid_request",
            "the body must be a JSON object (the registration record): " + parsed.error().message
        );
    }
    json::object& rec = *parsed;
    static constexpr std::string_view kStrings[] = {
        "uniqueId",
        "workspaceId",
        "address",
        "contactName",
        "contactEmail",
        "accountName",
        "siteName",
        "workspaceType",
        "deploymentMethod",
        "deploymentPlatform",
        "version",
    };
    for (auto key : kStrings) {
        if (const json::value* v = rec.if_contains(key);
            v != nullptr && !v->is_string() && !v->is_null()) {
            return EdgeFail(400, "invalid_request", fmt::format("{} must be a string", key));
        }
    }
    for (auto key : {"seats", "MAC"}) {
        if (const json::value* v = rec.if_contains(key); v != nullptr && !v->is_null()) {
            if (!v->is_number() || v->to_number<double>() < 0 || v->to_number<double>() > 1e12) {
                return EdgeFail(
                    400, "invalid_request", fmt::format("{} must be a non-negative number", key)
                );
            }
        }
    }
    for (auto key : {"setupComplete", "connectionDisable"}) {
        if (const json::value* v = rec.if_contains(key);
            v != nullptr && !v->is_bool() && !v->is_null()) {
            return EdgeFail(400, "invalid_request", fmt::format("{} must be true or false", key));
        }
    }
    if (const json::value* a = rec.if_contains("address"); a != nullptr && a->is_string()) {
        std::string_view s = a->as_string();
        if (!s.empty() && core::HttpUrlProblem(s)) {
            return EdgeFail(400, "invalid_request", "address must be an http:// or https:// URL");
        }
    }
    return rec;
}

Workspaces::Workspaces(
    store::Store& store,
    const CloudKeys& keys,
    const core::Clock& clock,
    WorkspaceOptions opts
)
    : store_(store), keys_(keys), clock_(clock), opts_(std::move(opts)) {
    while (opts_.base_url.ends_with('/')) {
        opts_.base_url.pop_back();
    }
}

std::string Workspaces::PlanOf(const store::Object& ws) {
    std::string plan = core::StrAt(ws.spec, "plan");
    if (plan.empty()) {
        if (auto t = store_.Get(ws.tenant)) {
            plan = core::StrAt(t->spec, "plan");
        }
    }
    return plan;
}

std::optional<Workspaces::Facts> Workspaces::FactsOf(std::string_view id) {
    auto ws = store_.Get(id);
    if (!ws || ws->kind != "Workspace") {
        return std::nullopt;
    }
    Facts f{ws->tenant, PlanOf(*ws), false};
    if (!f.plan.empty()) {
        if (auto p = store_.FindByName("Plan", "", f.plan)) {
            const json::object* ent = core::ObjectAt(p->spec, "entitlements");
            f.enterprise_apps = ent != nullptr && core::BoolAt(*ent, "enterprise_apps");
        }
    }
    return f;
}

json::object Workspaces::LicenseData(const store::Object& ws) {
    std::string plan = PlanOf(ws);
    json::array modules;
    int64_t push_quota = 0;
    if (!plan.empty()) {
        if (auto p = store_.FindByName("Plan", "", plan)) {
            if (const json::object* ent = core::ObjectAt(p->spec, "entitlements")) {
                push_quota = core::IntAt(*ent, "monthly_push_notifications");
                if (const json::value* m = ent->if_contains("modules");
                    m != nullptr && m->is_array()) {
                    modules = m->as_array();
                }
            }
        }
    }
    int64_t now = UnixNow(clock_);
    int64_t expire = now + 30LL * 24 * 3600;  // a sync every 12 hours renews it
    json::object payload{
        {"workspaceId", ws.id},
        {"tenant", ws.tenant},
        {"plan", plan},
        {"modules", modules},
        {"monthlyPushNotifications", push_quota},
        {"issuedAt", Rfc3339(now)},
        {"expireAt", Rfc3339(expire)},
    };
    const json::object* st = &ws.status;
    // A stock server applies `license` with Rocket.Chat's own key and its whole sync throws on
    // any other string: it gets "" (no license). Hangar's signed entitlements travel in
    // `hangarLicense`, which a stock server ignores; `modules` is a comma-separated string.
    std::string module_list;
    for (const auto& m : modules) {
        if (m.is_string()) {
            module_list += (module_list.empty() ? "" : ",") + std::string(m.as_string());
        }
    }
    return json::object{
        {"version", 3},
        {"address", core::StrAt(*st, "address")},
        {"license", ""},
        {"updatedAt", Rfc3339(now)},
        {"modules", module_list},
        {"expireAt", Rfc3339(expire)},
        {"hangarLicense", keys_.Sign(json::serialize(payload))},
    };
}

json::object Workspaces::Credentials(const store::Object& ws, const std::string& secret) {
    const json::object* creds = core::ObjectAt(ws.status, "credentials");
    json::value uris = json::array();
    if (const json::value* u = ws.status.if_contains("redirect_uris");
        u != nullptr && u->is_array()) {
        uris = *u;
    }
    return json::object{
        {"workspaceId", ws.id},
        {"client_name", core::StrAt(ws.status, "client_name")},
        {"client_id", ws.id},
        {"client_secret", secret},
        {"client_secret_expires_at",
         creds != nullptr ? core::IntAt(*creds, "secret_expires_unix") : 0},
        {"redirect_uris", uris},
        {"publicKey", keys_.PublicKeyBase64()},
        {"registration_client_uri", opts_.base_url + "/api/v2/workspaces/" + ws.id},
        {"licenseData", LicenseData(ws)},
    };
}

std::string Workspaces::AccessToken(const store::Object& ws, uint32_t scopes, int64_t expires_unix)
    const {
    // The last field makes every token unique (two asked for in the same second differ): a
    // marketplace download token is good for one download.
    std::string payload = fmt::format(
        "{}|{}|{}|{}|{}",
        ws.id,
        scopes,
        expires_unix,
        core::IntAt(ws.status, "token_epoch"),
        core::NewSecretToken().substr(4, 12)
    );
    return "hwa_" + core::Base64UrlEncode(payload) + "." +
           core::Base64UrlEncode(keys_.Mac(payload));
}

// New credentials on `o` (inside a store mutation): the secret's hash and expiry; tokens issued
// under an earlier registration stop working.
static void SetNewCredentials(
    store::Object& o,
    const std::string& secret,
    int64_t now,
    std::chrono::seconds ttl,
    std::string_view via
) {
    json::object& creds = StatusObj(o, "credentials");
    creds.clear();
    creds["secret_hash"] = core::Sha256Hex(secret);
    creds["secret_expires_unix"] = now + ttl.count();
    creds["secret_expires_at"] = Rfc3339(now + ttl.count());
    o.status["registration"] = "Registered";
    o.status["registered_at"] = Rfc3339(now);
    o.status["registered_via"] = via;
    o.status["token_epoch"] = core::IntAt(o.status, "token_epoch") + 1;
}

// The registration token whose secret hashes to `hash` is valid until now + ttl (inside a store
// mutation); it replaces any earlier one.
static void ArmRegistrationToken(
    store::Object& o,
    const std::string& hash,
    int64_t now,
    std::chrono::seconds ttl
) {
    json::object& t = StatusObj(o, "registration_token");
    t["hash"] = hash;
    t["expires_at"] = Rfc3339(now + ttl.count());
    t["expires_unix"] = now + ttl.count();
    if (core::StrAt(o.status, "registration").empty()) {
        o.status["registration"] = "Unregistered";
    }
}

core::Result<std::string> Workspaces::InstanceRegistrationToken(const store::Object& ws) {
    std::string secret = core::Base64UrlEncode(keys_.Mac("instance-registration|" + ws.id));
    std::string token = fmt::format("hwr_{}.{}", ws.id, secret);
    if (core::StrAt(ws.status, "registration") == "Registered") {
        return token;  // used already; handing it down again changes nothing
    }
    int64_t now = UnixNow(clock_);
    int64_t ttl = opts_.registration_token_ttl.count();
    const json::object* t = core::ObjectAt(ws.status, "registration_token");
    if (t != nullptr && core::IntAt(*t, "expires_unix") > now + ttl / 2) {
        return token;  // armed (or an operator's own token is, which is left to run out)
    }
    std::string hash = core::Sha256Hex(secret);
    auto r = store_.Update(
        ws.id,
        std::nullopt,
        Rfc3339(now),
        [&](store::Object& o) -> core::Result<void> {
            if (core::StrAt(o.status, "registration") != "Registered") {
                ArmRegistrationToken(o, hash, now, opts_.registration_token_ttl);
            }
            return {};
        },
        store::SystemAudit(Rfc3339(now), "controller:instance", ws.tenant, ws.id)
    );
    if (!r) {
        return Fail(r.error());
    }
    return token;
}

core::Result<json::object> Workspaces::IssueRegistrationToken(
    const std::string& id,
    std::chrono::seconds ttl,
    store::AuditEvent audit
) {
    std::string secret = NewSecret();
    int64_t now = UnixNow(clock_);
    std::string expires = Rfc3339(now + ttl.count());
    auto r = store_.Update(
        id,
        std::nullopt,
        Rfc3339(now),
        [&](store::Object& o) -> core::Result<void> {
            if (o.kind != "Workspace") {
                return Fail(ErrorCode::kNotFound, fmt::format("workspace {} not found", id));
            }
            ArmRegistrationToken(o, core::Sha256Hex(secret), now, ttl);
            return {};
        },
        std::move(audit)
    );
    if (!r) {
        return Fail(r.error());
    }
    return json::object{
        {"workspace", id},
        {"token", fmt::format("hwr_{}.{}", id, secret)},
        {"expires_at", expires}};
}

core::Result<json::object>
Workspaces::RotateSecret(const std::string& id, store::AuditEvent audit) {
    std::string secret = NewSecret();
    int64_t now = UnixNow(clock_);
    int64_t grace_until = now + opts_.rotation_grace.count();
    auto r = store_.Update(
        id,
        std::nullopt,
        Rfc3339(now),
        [&](store::Object& o) -> core::Result<void> {
            if (o.kind != "Workspace") {
                return Fail(ErrorCode::kNotFound, fmt::format("workspace {} not found", id));
            }
            if (core::StrAt(o.status, "registration") != "Registered") {
                return Fail(
                    ErrorCode::kConflict,
                    "the workspace is not registered yet: it has no secret to rotate"
                );
            }
            json::object& creds = StatusObj(o, "credentials");
            int64_t old_expiry = core::IntAt(creds, "secret_expires_unix");
            creds["previous_secret_hash"] = creds["secret_hash"];
            creds["previous_secret_expires_unix"] = std::min(old_expiry, grace_until);
            creds["previous_secret_expires_at"] = Rfc3339(std::min(old_expiry, grace_until));
            creds["secret_hash"] = core::Sha256Hex(secret);
            creds["secret_expires_unix"] = now + opts_.secret_ttl.count();
            creds["secret_expires_at"] = Rfc3339(now + opts_.secret_ttl.count());
            creds["rotated_at"] = Rfc3339(now);
            return {};
        },
        std::move(audit)
    );
    if (!r) {
        return Fail(r.error());
    }
    const json::object& creds = r->status.at("credentials").as_object();
    return json::object{
        {"client_id", id},
        {"client_secret", secret},
        {"client_secret_expires_at", core::IntAt(creds, "secret_expires_unix")},
        {"previous_secret_valid_until", core::StrAt(creds, "previous_secret_expires_at")},
    };
}

EdgeResult<json::object> Workspaces::RegisterClient(
    std::string_view authorization,
    std::string_view body,
    const std::string& remote
) {
    std::string id, secret;
    if (!SplitSecret(BearerOf(authorization), "hwr_", "wks", id, secret)) {
        return EdgeFail(
            401, "invalid_token", "send Authorization: Bearer <registration token> (hwr_...)"
        );
    }
    if (body.size() > kRecordLimit) {
        return EdgeFail(
            413, "payload_too_large", fmt::format("the body is limited to {} bytes", kRecordLimit)
        );
    }
    auto parsed = core::ParseJsonObject(body.empty() ? std::string_view("{}") : body);
    if (!parsed) {
        return EdgeFail(
            400, "invalid_request", "the body must be a JSON object: " + parsed.error().message
        );
    }
    core::ObjectReader rd(*parsed, "body");
    auto email = rd.String("email");
    auto name = rd.String("client_name");
    const json::array* uris = rd.Array("redirect_uris");
    for (const auto& [k, v] : *parsed) {
        rd.Any(k);  // other client metadata is accepted and ignored
    }
    if (auto fin = rd.Finish(); !fin) {
        return EdgeFail(400, "invalid_client_metadata", fin.error().message);
    }
    if ((name && name->size() > 200) || (email && email->size() > 254) ||
        (uris != nullptr && uris->size() > 20)) {
        return EdgeFail(
            400,
            "invalid_client_metadata",
            "client_name is limited to 200 characters, email to 254, redirect_uris to 20"
        );
    }
    if (uris != nullptr) {
        for (const auto& u : *uris) {
            if (!u.is_string() || u.as_string().size() > 2048) {
                return EdgeFail(
                    400,
                    "invalid_redirect_uri",
                    "redirect_uris must be strings of at most 2048 characters"
                );
            }
        }
    }
    int64_t now = UnixNow(clock_);
    std::string client_secret = NewSecret();
    std::string hash = core::Sha256Hex(secret);
    bool token_bad = false;
    store::AuditEvent audit{
        0, Rfc3339(now), "workspace:" + id, "", "workspace.register", id, "", remote, ""};
    auto ws = store_.Get(id);
    if (!ws || ws->kind != "Workspace") {
        return EdgeFail(401, "invalid_token", "the registration token is unknown, used or expired");
    }
    audit.tenant = ws->tenant;
    auto r = store_.Update(
        id,
        std::nullopt,
        Rfc3339(now),
        [&](store::Object& o) -> core::Result<void> {
            const json::object* t = core::ObjectAt(o.status, "registration_token");
            if (t == nullptr || !core::SecretEquals(core::StrAt(*t, "hash"), hash) ||
                core::IntAt(*t, "expires_unix") <= now) {
                token_bad = true;
                return Fail(
                    ErrorCode::kUnauthenticated,
                    "the registration token is unknown, used or expired"
                );
            }
            o.status.erase("registration_token");
            SetNewCredentials(o, client_secret, now, opts_.secret_ttl, "token");
            if (email) {
                o.status["contact_email"] = *email;
            }
            if (name) {
                o.status["client_name"] = *name;
            }
            o.status["redirect_uris"] =
                uris != nullptr ? json::value(*uris) : json::value(json::array());
            return {};
        },
        audit
    );
    if (!r) {
        if (token_bad) {
            return EdgeFail(401, "invalid_token", r.error().message);
        }
        return std::unexpected(StoreTrouble(r.error()));
    }
    return Credentials(*r, client_secret);
}

EdgeResult<json::object> Workspaces::Intent(std::string_view body) {
    auto rec = ReadRegistrationRecord(body);
    if (!rec) {
        return std::unexpected(rec.error());
    }
    auto pending = store_.CountBy("WorkspaceIntent", "", "flow");
    int64_t count = 0;
    if (pending) {
        for (const auto& [k, n] : *pending) {
            count += n;
        }
    }
    int64_t now = UnixNow(clock_);
    if (count >= kMaxPendingIntents) {
        // Make room by forgetting the expired ones first.
        auto all = store_.ListAll("WorkspaceIntent", std::string(), [now](const store::Object& o) {
            return core::IntAt(o.status, "expires_unix") <= now;
        });
        if (all) {
            for (const auto& o : *all) {
                (void)store_.Delete(
                    o.id,
                    std::nullopt,
                    nullptr,
                    store::SystemAudit(Rfc3339(now), "controller:workspaces", "", o.id)
                );
                --count;
            }
        }
        if (count >= kMaxPendingIntents) {
            return EdgeFail(
                429, "slow_down", "too many registrations are waiting for approval; try again later"
            );
        }
    }
    std::string secret = NewSecret();
    for (int attempt = 0; attempt < 5; ++attempt) {
        std::string code = NewUserCode();
        store::Object o = store::NewSystemObject("WorkspaceIntent", "wki", "", Rfc3339(now));
        o.name = *NormalizeUserCode(code);
        o.spec["flow"] = "device";
        o.status["state"] = "pending";
        o.status["record"] = *rec;
        o.status["device_hash"] = core::Sha256Hex(secret);
        o.status["expires_unix"] = now + opts_.intent_ttl.count();
        o.status["expires_at"] = Rfc3339(now + opts_.intent_ttl.count());
        o.status["user_code"] = code;
        auto c = store_.Create(
            o, std::nullopt, store::SystemAudit(Rfc3339(now), "workspace:intent", "", o.id)
        );
        if (!c) {
            if (c.error().code == ErrorCode::kAlreadyExists ||
                c.error().code == ErrorCode::kConflict) {
                continue;  // that user code is taken: draw another
            }
            return std::unexpected(StoreTrouble(c.error()));
        }
        return json::object{
            {"device_code", fmt::format("hwd_{}.{}", o.id, secret)},
            {"user_code", code},
            {"verification_url", opts_.base_url + "/#/workspaces/approve?user_code=" + code},
            {"interval", opts_.poll_interval},
            {"expires_in", opts_.intent_ttl.count()},
        };
    }
    return EdgeFail(503, "server_error", "could not draw a free user code; try again");
}

EdgeResult<json::object> Workspaces::Poll(std::string_view device_code) {
    std::string id, secret;
    if (!SplitSecret(device_code, "hwd_", "wki", id, secret)) {
        return EdgeFail(
            400, "invalid_grant", "token must be the device_code the intent answered (hwd_...)"
        );
    }
    auto intent = store_.Get(id);
    if (!intent || intent->kind != "WorkspaceIntent" ||
        !core::SecretEquals(core::StrAt(intent->status, "device_hash"), core::Sha256Hex(secret))) {
        return EdgeFail(
            400, "invalid_grant", "unknown device code (it may have been used already)"
        );
    }
    int64_t now = UnixNow(clock_);
    std::string state = core::StrAt(intent->status, "state");
    auto forget = [&] {
        (void)store_.Delete(
            id,
            std::nullopt,
            nullptr,
            store::SystemAudit(Rfc3339(now), "controller:workspaces", "", id)
        );
    };
    if (state == "rejected") {
        forget();
        return EdgeFail(400, "access_denied", "an operator rejected this registration");
    }
    if (state == "pending") {
        if (core::IntAt(intent->status, "expires_unix") <= now) {
            forget();
            return EdgeFail(
                400, "expired_token", "the registration was not approved in time; start again"
            );
        }
        return json::object{{"status", "authorization_pending"}};
    }
    std::string ws_id = core::StrAt(intent->status, "workspace_id");
    std::string client_secret = NewSecret();
    auto r = store_.Update(
        ws_id,
        std::nullopt,
        Rfc3339(now),
        [&](store::Object& o) -> core::Result<void> {
            SetNewCredentials(o, client_secret, now, opts_.secret_ttl, "device");
            return {};
        },
        store::SystemAudit(Rfc3339(now), "workspace:" + ws_id, intent->tenant, ws_id)
    );
    if (!r) {
        if (r.error().code == ErrorCode::kNotFound) {
            forget();
            return EdgeFail(400, "access_denied", "the approved workspace was deleted");
        }
        return std::unexpected(StoreTrouble(r.error()));
    }
    forget();
    return json::object{{"successful", true}, {"payload", Credentials(*r, client_secret)}};
}

core::Result<void> Workspaces::ThrottleCodeGuess(const std::string& caller) {
    std::chrono::seconds retry{1};
    if (code_guesses_.Allow(caller, retry)) {
        return {};
    }
    core::Error e = core::MakeError(
        ErrorCode::kTooManyRequests,
        fmt::format("too many user codes tried; retry in {} s", retry.count())
    );
    e.With("retry_after", std::to_string(retry.count()));
    return Fail(std::move(e));
}

core::Result<store::Object> Workspaces::Approve(
    std::string_view user_code,
    const std::string& tenant,
    std::string name,
    store::AuditEvent audit
) {
    auto code = NormalizeUserCode(user_code);
    if (!code) {
        return Fail(core::FieldError(
            "user_code", "must be the 8-letter code the workspace shows, such as BCDF-GHJK"
        ));
    }
    if (auto t = store_.Get(tenant); !t || t->kind != "Tenant") {
        return Fail(ErrorCode::kNotFound, fmt::format("tenant {} not found", tenant));
    }
    auto intent = store_.FindByName("WorkspaceIntent", "", *code);
    int64_t now = UnixNow(clock_);
    if (!intent || core::IntAt(intent->status, "expires_unix") <= now) {
        return Fail(
            ErrorCode::kNotFound,
            fmt::format("no registration is waiting with user code {}", user_code)
        );
    }
    if (core::StrAt(intent->status, "state") != "pending") {
        return Fail(
            ErrorCode::kConflict,
            fmt::format(
                "the registration with user code {} was already {}",
                user_code,
                core::StrAt(intent->status, "state")
            )
        );
    }
    const json::object* rec = core::ObjectAt(intent->status, "record");
    json::object record = rec != nullptr ? *rec : json::object();
    if (name.empty()) {
        name = Slug(core::StrAt(record, "siteName"));
        if (name.empty()) {
            name = "workspace-" + Slug(code->substr(0, 4));
        }
    }
    store::Object ws;
    ws.id = core::NewId("wks");
    ws.kind = "Workspace";
    ws.tenant = tenant;
    ws.name = name;
    ws.created_at = ws.updated_at = Rfc3339(now);
    ws.generation = 1;
    std::string site = core::StrAt(record, "siteName");
    if (!site.empty()) {
        ws.spec["display_name"] = site.substr(0, 200);
    }
    ws.status["registration"] = "Pending";
    ws.status["record"] = record;
    for (auto key : {"address", "version"}) {
        ws.status[key] = core::StrAt(record, key);
    }
    ws.status["contact_email"] = core::StrAt(record, "contactEmail");
    ws.status["client_name"] = site;
    ws.status["approved_by"] = audit.actor;
    audit.object = ws.id;
    audit.tenant = tenant;
    auto created = store_.Create(ws, std::nullopt, std::move(audit));
    if (!created) {
        return Fail(created.error());
    }
    auto u = store_.Update(
        intent->id,
        std::nullopt,
        Rfc3339(now),
        [&](store::Object& o) -> core::Result<void> {
            o.status["state"] = "approved";
            o.status["workspace_id"] = ws.id;
            return {};
        },
        store::SystemAudit(Rfc3339(now), "controller:workspaces", "", intent->id)
    );
    if (!u) {
        return Fail(u.error());
    }
    return created->object;
}

core::Result<void> Workspaces::Reject(std::string_view user_code, store::AuditEvent audit) {
    auto code = NormalizeUserCode(user_code);
    if (!code) {
        return Fail(core::FieldError(
            "user_code", "must be the 8-letter code the workspace shows, such as BCDF-GHJK"
        ));
    }
    auto intent = store_.FindByName("WorkspaceIntent", "", *code);
    if (!intent) {
        return Fail(
            ErrorCode::kNotFound,
            fmt::format("no registration is waiting with user code {}", user_code)
        );
    }
    audit.object = intent->id;
    auto u = store_.Update(
        intent->id,
        std::nullopt,
        Rfc3339(UnixNow(clock_)),
        [&](store::Object& o) -> core::Result<void> {
            if (core::StrAt(o.status, "state") != "pending") {
                return Fail(
                    ErrorCode::kConflict,
                    fmt::format(
                        "the registration with user code {} was already {}",
                        user_code,
                        core::StrAt(o.status, "state")
                    )
                );
            }
            o.status["state"] = "rejected";
            return {};
        },
        std::move(audit)
    );
    if (!u) {
        return Fail(u.error());
    }
    return {};
}

core::Result<json::array> Workspaces::PendingIntents() {
    int64_t now = UnixNow(clock_);
    auto all = store_.ListAll("WorkspaceIntent", std::string(), [now](const store::Object& o) {
        return core::StrAt(o.status, "state") == "pending" &&
               core::IntAt(o.status, "expires_unix") > now;
    });
    if (!all) {
        return Fail(all.error());
    }
    json::array out;
    for (const auto& o : *all) {
        json::object rec;
        if (const json::object* r = core::ObjectAt(o.status, "record")) {
            rec = *r;
        }
        out.push_back(json::object{
            {"user_code", core::StrAt(o.status, "user_code")},
            {"requested_at", o.created_at},
            {"expires_at", core::StrAt(o.status, "expires_at")},
            {"site_name", core::StrAt(rec, "siteName")},
            {"address", core::StrAt(rec, "address")},
            {"contact_email", core::StrAt(rec, "contactEmail")},
            {"version", core::StrAt(rec, "version")},
        });
    }
    return out;
}

EdgeResult<store::Object> Workspaces::AuthenticateClient(const OAuthForm& form) {
    auto client_id = FormField(form, "client_id");
    auto client_secret = FormField(form, "client_secret");
    if (!client_id || !client_secret || client_id->empty() || client_secret->empty()) {
        return EdgeFail(400, "invalid_request", "client_id and client_secret are required");
    }
    constexpr std::string_view kBad = "oauth_invalid_client_credentials";
    if (!core::IsValidId(*client_id, "wks")) {
        return EdgeFail(401, std::string(kBad), "unknown client_id");
    }
    auto ws = store_.Get(*client_id);
    if (!ws) {
        if (ws.error().code == ErrorCode::kNotFound) {
            return EdgeFail(401, std::string(kBad), "unknown client_id");
        }
        return std::unexpected(StoreTrouble(ws.error()));
    }
    if (ws->kind != "Workspace") {
        return EdgeFail(401, std::string(kBad), "unknown client_id");
    }
    const json::object* creds = core::ObjectAt(ws->status, "credentials");
    int64_t now = UnixNow(clock_);
    std::string hash = core::Sha256Hex(*client_secret);
    bool current = creds != nullptr && core::SecretEquals(core::StrAt(*creds, "secret_hash"), hash);
    bool previous = creds != nullptr && !current &&
                    core::SecretEquals(core::StrAt(*creds, "previous_secret_hash"), hash);
    if (!current && !previous) {
        return EdgeFail(401, std::string(kBad), "wrong client_secret");
    }
    int64_t expiry =
        core::IntAt(*creds, current ? "secret_expires_unix" : "previous_secret_expires_unix");
    if (expiry <= now) {
        return EdgeFail(
            401, std::string(kBad), fmt::format("the client secret expired at {}", Rfc3339(expiry))
        );
    }
    if (core::BoolAt(ws->spec, "disabled")) {
        return EdgeFail(403, "workspace_disabled", "an operator disabled this workspace");
    }
    return std::move(*ws);
}

EdgeResult<json::object> Workspaces::Token(const OAuthForm& form) {
    auto grant = FormField(form, "grant_type");
    if (!grant) {
        return EdgeFail(
            400,
            "invalid_request",
            "grant_type is required (client_credentials, authorization_code or refresh_token)"
        );
    }
    if (*grant != "client_credentials" && *grant != "authorization_code" &&
        *grant != "refresh_token") {
        return EdgeFail(
            400,
            "unsupported_grant_type",
            "grant_type must be client_credentials, authorization_code or refresh_token"
        );
    }
    auto ws = AuthenticateClient(form);
    if (!ws) {
        return std::unexpected(ws.error());
    }
    if (*grant == "authorization_code") {
        return ExchangeCode(*ws, form);
    }
    if (*grant == "refresh_token") {
        return RefreshUserToken(*ws, form);
    }
    int64_t now = UnixNow(clock_);
    uint32_t allowed = kAllScopes;
    if (const json::value* s = ws->spec.if_contains("scopes"); s != nullptr && s->is_array()) {
        allowed = kHarmlessScopes;
        for (const auto& v : s->as_array()) {
            allowed |= v.is_string() ? ScopeFromName(v.as_string()) : 0;
        }
    }
    uint32_t asked = 0;
    std::string scope = FormField(form, "scope").value_or("");
    std::string echoed;  // the names as asked: the server caches its token under this string
    size_t i = 0;
    while (i < scope.size()) {
        size_t j = scope.find(' ', i);
        if (j == std::string::npos) {
            j = scope.size();
        }
        std::string_view name(scope.data() + i, j - i);
        if (!name.empty()) {
            uint32_t bit = ScopeFromName(name);
            if (bit == 0) {
                return EdgeFail(400, "invalid_scope", fmt::format("unknown scope \"{}\"", name));
            }
            if ((allowed & bit) == 0) {
                return EdgeFail(
                    400,
                    "invalid_scope",
                    fmt::format("this workspace may not hold the scope \"{}\"", name)
                );
            }
            asked |= bit;
            echoed += (echoed.empty() ? "" : " ") + std::string(name);
        }
        i = j + 1;
    }
    if (asked == 0) {
        asked = allowed;
        echoed = ScopeString(asked);
    }
    int64_t expires = now + opts_.access_token_ttl.count();
    return json::object{
        {"access_token", AccessToken(*ws, asked, expires)},
        {"expires_in", opts_.access_token_ttl.count()},
        {"scope", echoed},
        {"token_type", "Bearer"},
    };
}

EdgeResult<WorkspaceAuth>
Workspaces::Authenticate(std::string_view authorization, uint32_t need, bool may_block) const {
    std::string_view token = BearerOf(authorization);
    if (token.empty()) {
        return EdgeFail(
            401, "invalid_token", "send Authorization: Bearer <access token> from /api/oauth/token"
        );
    }
    size_t dot = token.find('.');
    std::string payload, mac;
    if (!token.starts_with("hwa_") || dot == std::string_view::npos ||
        !core::Base64UrlDecode(token.substr(4, dot - 4), payload) ||
        !core::Base64UrlDecode(token.substr(dot + 1), mac) ||
        !core::SecretEquals(mac, keys_.Mac(payload))) {
        return EdgeFail(401, "invalid_token", "the access token is not one this cloud issued");
    }
    // "<workspace>|<scopes>|<expires>|<epoch>|<nonce>" (the nonce only makes it unique)
    std::array<std::string_view, 4> parts{};
    std::string_view rest = payload;
    for (std::string_view& part : parts) {
        size_t bar = rest.find('|');
        part = rest.substr(0, bar);
        rest = bar == std::string_view::npos ? std::string_view() : rest.substr(bar + 1);
    }
    WorkspaceAuth who;
    who.workspace_id = std::string(parts[0]);
    int64_t epoch = 0;
    std::from_chars(parts[1].data(), parts[1].data() + parts[1].size(), who.scopes);
    std::from_chars(parts[2].data(), parts[2].data() + parts[2].size(), who.expires_unix);
    std::from_chars(parts[3].data(), parts[3].data() + parts[3].size(), epoch);
    if (who.expires_unix <= UnixNow(clock_)) {
        return EdgeFail(
            401,
            "invalid_token",
            fmt::format("the access token expired at {}", Rfc3339(who.expires_unix))
        );
    }
    AuthInfo info;
    bool have = false;
    auto now = std::chrono::steady_clock::now();
    auto remember = [&](const store::Object& ws, int64_t revision) {
        info = AuthInfo{
            revision,
            ws.tenant,
            core::IntAt(ws.status, "token_epoch"),
            core::BoolAt(ws.spec, "disabled"),
            now};
        std::lock_guard lock(auth_mu_);
        if (auth_cache_.size() > 100000) {
            auth_cache_.clear();
        }
        auth_cache_[who.workspace_id] = info;
        have = true;
    };
    if (auto cached = store_.Cached(who.workspace_id)) {
        {
            std::lock_guard lock(auth_mu_);
            if (auto it = auth_cache_.find(who.workspace_id);
                it != auth_cache_.end() && it->second.revision == cached->revision) {
                info = it->second;
                have = true;
            }
        }
        if (!have && cached->kind == "Workspace") {
            if (auto ws = store::ObjectFromDoc(cached->doc)) {
                remember(*ws, cached->revision);
            }
        }
    } else {
        std::lock_guard lock(auth_mu_);
        if (auto it = auth_cache_.find(who.workspace_id);
            it != auth_cache_.end() && now - it->second.fetched < std::chrono::seconds(2)) {
            info = it->second;
            have = true;
        }
    }
    if (!have) {
        if (!may_block) {
            return EdgeFail(0, "would_block");
        }
        auto ws = store_.Get(who.workspace_id);
        if (!ws || ws->kind != "Workspace") {
            if (!ws && ws.error().code != ErrorCode::kNotFound) {
                return std::unexpected(StoreTrouble(ws.error()));
            }
            std::lock_guard lock(auth_mu_);
            auth_cache_.erase(who.workspace_id);
            return EdgeFail(401, "invalid_token", "the workspace is no longer registered");
        }
        remember(*ws, ws->revision);
    }
    if (info.epoch != epoch) {
        return EdgeFail(
            401, "invalid_token", "the workspace registered again since this token was issued"
        );
    }
    if (info.disabled) {
        return EdgeFail(403, "workspace_disabled", "an operator disabled this workspace");
    }
    if (need != 0 && (who.scopes & need) == 0) {
        return EdgeFail(
            403,
            "insufficient_scope",
            fmt::format("this call needs the scope {}", ScopeString(need))
        );
    }
    who.tenant = info.tenant;
    return who;
}

EdgeResult<json::object>
Workspaces::Sync(const WorkspaceAuth& who, std::string_view id, std::string_view body) {
    auto r = Record(who, id, body);
    if (!r) {
        return std::unexpected(r.error());
    }
    return json::object{
        {"workspaceId", who.workspace_id},
        {"publicKey", keys_.PublicKeyBase64()},
        {"license", ""},
        {"hangarLicense", LicenseData(*r).at("hangarLicense")}};
}

EdgeResult<store::Object>
Workspaces::Record(const WorkspaceAuth& who, std::string_view id, std::string_view body) {
    if (id != who.workspace_id) {
        return EdgeFail(403, "forbidden", "the access token belongs to another workspace");
    }
    auto rec = ReadRegistrationRecord(body);
    if (!rec) {
        return std::unexpected(rec.error());
    }
    int64_t now = UnixNow(clock_);
    auto r = store_.Update(
        who.workspace_id,
        std::nullopt,
        Rfc3339(now),
        [&](store::Object& o) -> core::Result<void> {
            o.status["record"] = *rec;
            if (const json::value* s = rec->if_contains("seats"); s != nullptr && s->is_number()) {
                o.status["seats"] = static_cast<int64_t>(s->to_number<double>());
            }
            for (auto key : {"address", "version", "deploymentMethod", "deploymentPlatform"}) {
                if (const json::value* v = rec->if_contains(key); v != nullptr && v->is_string()) {
                    o.status
                        [key == std::string_view("deploymentMethod")     ? "deployment_method"
                         : key == std::string_view("deploymentPlatform") ? "deployment_platform"
                                                                         : key] = *v;
                }
            }
            o.status["last_sync_at"] = Rfc3339(now);
            o.status["syncs"] = core::IntAt(o.status, "syncs") + 1;
            return {};
        },
        store::SystemAudit(
            Rfc3339(now), "workspace:" + who.workspace_id, who.tenant, who.workspace_id
        )
    );
    if (!r) {
        if (r.error().code == ErrorCode::kNotFound) {
            return EdgeFail(401, "invalid_token", "the workspace is no longer registered");
        }
        return std::unexpected(StoreTrouble(r.error()));
    }
    if (on_sync_) {
        on_sync_(*r);
    }
    return std::move(*r);
}

}  // namespace hangar::edge
