#include "hangar/edge/push.hpp"

#include <algorithm>
#include <thread>

#include <fmt/format.h>

#include <boost/json.hpp>

#include "hangar/core/destination.hpp"
#include "hangar/core/ids.hpp"
#include "hangar/core/json.hpp"
#include "hangar/core/log.hpp"
#include "hangar/core/validate.hpp"
#include "hangar/metrics/tsdb.hpp"

namespace hangar::edge {

namespace {

using core::ErrorCode;
using core::Fail;

// The `code` of an error body, by what went wrong (docs/workspace-cloud.md lists them).
enum PushCode {
    kBadToken = 1,
    kBadNotification = 2,
    kDeadDevice = 3,
    kQuotaSpent = 4,
    kTooFast = 5,
    kProviderDown = 6,
    kNoApp = 7,
    kUnknownService = 8,
    kProviderRejected = 9,
    kProviderAuth = 10,
};

constexpr size_t kMaxPayload = 4096;  // APNs' limit for a notification, FCM's for data

PushAnswer
Error(int status, int code, std::string text, const std::string& request_id, int retry_after = 0) {
    return PushAnswer{
        status,
        json::object{
            {"code", code},
            {"error", std::move(text)},
            {"requestId", request_id},
            {"status", status}},
        retry_after};
}

size_t CodePoints(std::string_view s) {
    return static_cast<size_t>(std::count_if(s.begin(), s.end(), [](char c) {
        return (static_cast<unsigned char>(c) & 0xC0U) != 0x80U;
    }));
}

bool DeviceTokenOk(std::string_view t) {
    return !t.empty() && t.size() <= 4096 && std::all_of(t.begin(), t.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-' ||
               c == ':' || c == '.';
    });
}

std::string MonthOf(core::TimePoint t) {
    return core::FormatRfc3339(t).substr(0, 7);
}

std::string Stringify(const json::value& v) {
    return v.is_string() ? std::string(v.as_string()) : json::serialize(v);
}

// Checks the fields of `options` a server sends; "" when they are fine.
std::string CheckOptions(const json::object& o) {
    auto str = [&](std::string_view k, size_t max_points) -> std::string {
        const json::value* v = o.if_contains(k);
        if (v == nullptr || v->is_null()) {
            return {};
        }
        if (!v->is_string()) {
            return fmt::format("options.{} must be a string", k);
        }
        if (CodePoints(v->as_string()) > max_points) {
            return fmt::format("options.{} is limited to {} characters", k, max_points);
        }
        return {};
    };
    for (auto [k, max] :
         {std::pair{"title", 65},
          std::pair{"text", 240},
          std::pair{"sound", 256},
          std::pair{"topic", 255},
          std::pair{"from", 256},
          std::pair{"uniqueId", 256},
          std::pair{"userId", 256}}) {
        if (auto e = str(k, static_cast<size_t>(max)); !e.empty()) {
            return e;
        }
    }
    if (const json::value* b = o.if_contains("badge");
        b != nullptr && !b->is_null() &&
        (!b->is_number() || b->to_number<double>() < 0 || b->to_number<double>() > 1e6)) {
        return "options.badge must be a number from 0 to 1000000";
    }
    for (auto k : {"apn", "gcm", "payload"}) {
        if (const json::value* v = o.if_contains(k);
            v != nullptr && !v->is_null() && !v->is_object()) {
            return fmt::format("options.{} must be an object", k);
        }
    }
    return {};
}

// What APNs gets for `options`.
ApnsNote BuildApns(const json::object& o, const std::string& topic, int64_t now_unix) {
    ApnsNote n;
    json::object aps;
    json::object alert;
    if (const json::value* t = o.if_contains("title"); t != nullptr && t->is_string()) {
        alert["title"] = *t;
    }
    if (const json::value* t = o.if_contains("text"); t != nullptr && t->is_string()) {
        alert["body"] = *t;
    }
    if (!alert.empty()) {
        aps["alert"] = std::move(alert);
    }
    if (const json::value* b = o.if_contains("badge"); b != nullptr && b->is_number()) {
        aps["badge"] = static_cast<int64_t>(b->to_number<double>());
    }
    if (const json::value* s = o.if_contains("sound"); s != nullptr && s->is_string()) {
        aps["sound"] = *s;
    }
    if (const json::object* apn = core::ObjectAt(o, "apn")) {
        if (const json::value* c = apn->if_contains("category"); c != nullptr && c->is_string()) {
            aps["category"] = *c;
        }
    }
    const json::value* ca = o.if_contains("contentAvailable");
    bool content_available = ca != nullptr && ((ca->is_bool() && ca->as_bool()) ||
                                               (ca->is_number() && ca->to_number<double>() != 0));
    if (content_available) {
        aps["content-available"] = 1;
    }
    json::object note{{"aps", json::object()}};
    if (const json::object* payload = core::ObjectAt(o, "payload")) {
        // The app reads the whole payload back from "ejson", unchanged; an id-only one makes the
        // app's service extension fetch the message itself.
        note["ejson"] = json::serialize(*payload);
        if (core::StrAt(*payload, "notificationType") == "message-id-only") {
            aps["mutable-content"] = 1;
        }
    }
    if (const json::value* f = o.if_contains("from"); f != nullptr && f->is_string()) {
        note["messageFrom"] = *f;
    }
    bool background = !aps.contains("alert") && content_available;
    n.push_type = background ? "background" : "alert";
    n.priority = background ? "5" : "10";
    note["aps"] = std::move(aps);
    n.payload = json::serialize(note);
    n.topic = topic;
    if (const json::value* id = o.if_contains("notId");
        id != nullptr && (id->is_number() || id->is_string())) {
        std::string s = Stringify(*id);
        if (s.size() <= 64) {
            n.collapse_id = s;
        }
    }
    n.expiration = now_unix + 3600;
    return n;
}

// What FCM gets for `options`: a data message (string values), as chat apps build their own
// notifications from it.
std::string BuildFcm(const json::object& o) {
    json::object data;
    if (const json::object* payload = core::ObjectAt(o, "payload")) {
        data["ejson"] = json::serialize(*payload);
    }
    for (auto [from, to] :
         {std::pair{"title", "title"},
          std::pair{"text", "message"},
          std::pair{"badge", "msgcnt"},
          std::pair{"sound", "soundname"},
          std::pair{"notId", "notId"},
          std::pair{"from", "messageFrom"}}) {
        if (const json::value* v = o.if_contains(from); v != nullptr && !v->is_null()) {
            data[to] = Stringify(*v);
        }
    }
    if (const json::object* gcm = core::ObjectAt(o, "gcm")) {
        for (const auto& [k, v] : *gcm) {
            if (!data.contains(k)) {
                data[k] = Stringify(v);
            }
        }
    }
    return json::serialize(json::object{
        {"data", std::move(data)}, {"android", {{"priority", "high"}}}});
}

}  // namespace

struct PushGateway::App {
    std::string id, topic;
    std::unique_ptr<ApnsSender> apns;
    std::unique_ptr<FcmSender> fcm;
};

std::function<core::Result<json::object>(const json::object&)> PushAppValidator(
    const CloudKeys& keys
) {
    return [&keys](const json::object& spec) -> core::Result<json::object> {
        core::ObjectReader r(spec, "spec");
        const json::object* apns = r.Object("apns");
        const json::object* fcm = r.Object("fcm");
        json::object out;
        if (auto d = r.String("display_name")) {
            out["display_name"] = *d;
        }
        if (auto f = r.Finish(); !f) {
            return Fail(f.error());
        }
        if ((apns == nullptr) == (fcm == nullptr)) {
            return Fail(core::FieldError(
                "spec", "must have exactly one of apns (an iOS app) or fcm (an Android app)"
            ));
        }
        // A tenant's URL: https, and not into the operator's network (checked again at connect).
        auto url_ok = [](const std::string& u) {
            return !core::HttpUrlProblem(u, /*https_only=*/true) && u.size() < 512 &&
                   core::DestinationPolicy::Global().CheckUrl(u);
        };
        if (apns != nullptr) {
            core::ObjectReader a(*apns, "spec.apns");
            json::object o;
            auto pem = a.String("key_p8");
            auto sealed = a.String("key_sealed");
            auto key_id = a.String("key_id", true);
            auto team_id = a.String("team_id", true);
            auto topic = a.String("topic", true);
            auto url = a.String("url");
            a.Any("key_sha256");  // what a read shows: recomputed below
            if (auto f = a.Finish(); !f) {
                return Fail(f.error());
            }
            std::string key = pem.value_or("");
            if (!pem && sealed && !keys.Open(*sealed, key)) {
                return Fail(core::FieldError(
                    "spec.apns.key_sealed",
                    "does not open with this server's master key; send key_p8 instead"
                ));
            }
            if (key.empty()) {
                return Fail(core::FieldError(
                    "spec.apns.key_p8", "is required: the team's .p8 signing key (PEM)"
                ));
            }
            if (auto k = PrivateKey::FromPem(key, "EC"); !k) {
                return Fail(core::FieldError("spec.apns.key_p8", k.error().message));
            }
            if (key_id->size() != 10 || team_id->size() != 10) {
                return Fail(core::FieldError(
                    key_id->size() != 10 ? "spec.apns.key_id" : "spec.apns.team_id",
                    "must be Apple's 10-character identifier"
                ));
            }
            if (topic->empty() || topic->size() > 255) {
                return Fail(core::FieldError("spec.apns.topic", "must be the app's bundle id"));
            }
            if (url && !url_ok(*url)) {
                return Fail(core::FieldError(
                    "spec.apns.url",
                    "must be an https:// URL of a public address (an operator can allow others "
                    "with --webhook-allow)"
                ));
            }
            o["key_sealed"] = keys.Seal(key);
            o["key_sha256"] =
                core::Sha256Hex(key);  // lets `hangar plan` tell a changed key from the same one
            o["key_id"] = *key_id;
            o["team_id"] = *team_id;
            o["topic"] = *topic;
            if (url) {
                o["url"] = *url;
            }
            out["apns"] = std::move(o);
            return out;
        }
        core::ObjectReader f(*fcm, "spec.fcm");
        const json::value* sa_value = f.Any("service_account");
        auto sealed = f.String("service_account_sealed");
        auto url = f.String("url");
        f.Any("project_id");
        f.Any("client_email");
        f.Any("token_uri");
        f.Any("service_account_sha256");
        if (auto fin = f.Finish(); !fin) {
            return Fail(fin.error());
        }
        std::string sa_text;
        if (sa_value != nullptr) {
            sa_text = sa_value->is_string() ? std::string(sa_value->as_string())
                                            : json::serialize(*sa_value);
        } else if (!sealed || !keys.Open(*sealed, sa_text)) {
            return Fail(core::FieldError(
                "spec.fcm.service_account", "is required: the service account's JSON key file"
            ));
        }
        auto sa = core::ParseJsonObject(sa_text);
        if (!sa || core::StrAt(*sa, "type") != "service_account" ||
            core::StrAt(*sa, "project_id").empty() || core::StrAt(*sa, "client_email").empty() ||
            core::StrAt(*sa, "private_key").empty()) {
            return Fail(core::FieldError(
                "spec.fcm.service_account",
                "must be a service-account key file: type service_account, project_id, "
                "client_email, private_key"
            ));
        }
        if (auto k = PrivateKey::FromPem(core::StrAt(*sa, "private_key"), "RSA"); !k) {
            return Fail(
                core::FieldError("spec.fcm.service_account", "private_key " + k.error().message)
            );
        }
        std::string token_uri = core::StrAt(*sa, "token_uri");
        if (token_uri.empty()) {
            token_uri = "https://oauth2.googleapis.com/token";
        }
        if (!url_ok(token_uri) || (url && !url_ok(*url))) {
            return Fail(core::FieldError(
                url && !url_ok(*url) ? "spec.fcm.url" : "spec.fcm.service_account",
                "URLs must be https:// URLs of public addresses (an operator can allow others with "
                "--webhook-allow)"
            ));
        }
        json::object o{
            {"service_account_sealed", keys.Seal(sa_text)},
            {"service_account_sha256", core::Sha256Hex(sa_text)},
            {"project_id", core::StrAt(*sa, "project_id")},
            {"client_email", core::StrAt(*sa, "client_email")},
            {"token_uri", token_uri}};
        if (url) {
            o["url"] = *url;
        }
        out["fcm"] = std::move(o);
        return out;
    };
}

PushGateway::PushGateway(
    store::Store& store,
    Workspaces& workspaces,
    const CloudKeys& keys,
    const core::Clock& clock,
    core::MetricsRegistry* metrics,
    metrics::Tsdb* tsdb,
    PushOptions opts
)
    : store_(store),
      workspaces_(workspaces),
      keys_(keys),
      clock_(clock),
      tsdb_(tsdb),
      opts_(std::move(opts)),
      limiter_(opts_.rate, opts_.rate * 2),
      flusher_(opts_.flush_every, [this] { Flush(); }) {
    for (int i = 0; i < 4; ++i) {
        retry_threads_.emplace_back([this] { RetryLoop(); });
    }
    if (metrics != nullptr) {
        sent_ = &metrics->Counter(
            "hangar_push_notifications_total",
            "Push notifications by service and outcome.",
            {"service", "result"}
        );
        seconds_ = &metrics->Histogram(
            "hangar_push_provider_duration_seconds",
            "Time a notification spent with its provider, retries included.",
            {"service"},
            core::LatencyBuckets()
        );
    }
}

PushGateway::~PushGateway() {
    Stop();
}

void PushGateway::Stop() {
    {
        std::lock_guard lock(retry_mu_);
        if (stopping_) {
            return;
        }
        stopping_ = true;
    }
    retry_cv_.notify_all();
    for (auto& t : retry_threads_) {
        t.join();
    }
    // Close the provider connections now, while the io_context they may run on exists; with
    // it stopped, notifications still in flight fail here. Callbacks of those hold their App,
    // so the senders go explicitly rather than with the last reference.
    std::unordered_map<std::string, std::shared_ptr<App>> apps;
    {
        std::lock_guard lock(apps_mu_);
        apps.swap(senders_);
    }
    for (auto& [key, app] : apps) {
        app->apns.reset();
        app->fcm.reset();
    }
    flusher_.Stop();
    Flush();
}

int64_t PushGateway::QuotaOf(const store::Object& ws) {
    std::string plan = core::StrAt(ws.spec, "plan");
    if (plan.empty()) {
        if (auto t = store_.Get(ws.tenant)) {
            plan = core::StrAt(t->spec, "plan");
        }
    }
    if (plan.empty()) {
        return 0;
    }
    auto p = store_.FindByName("Plan", "", plan);
    if (!p) {
        return 0;
    }
    const json::object* ent = core::ObjectAt(p->spec, "entitlements");
    return ent != nullptr ? core::IntAt(*ent, "monthly_push_notifications") : 0;
}

std::shared_ptr<PushGateway::App> PushGateway::FindApp(
    const std::string& tenant,
    std::string_view service,
    const std::string& topic,
    bool may_block,
    std::string& why
) {
    std::string kind = service == "apn" ? "apns" : "fcm";
    auto now = std::chrono::steady_clock::now();
    std::vector<store::Object> candidates;
    {
        std::lock_guard lock(apps_mu_);
        for (int slot = 0; slot < 2; ++slot) {
            std::string t = tenant;
            if (slot == 1) {  // the operator tenant's apps serve tenants without their own
                if (!may_block && !opts_.operator_tenant.empty()) {
                    return nullptr;
                }
                auto op = opts_.operator_tenant.empty()
                              ? core::Result<store::Object>(Fail(ErrorCode::kNotFound, ""))
                              : store_.FindByName("Tenant", "", opts_.operator_tenant);
                if (!op || op->id == tenant) {
                    break;
                }
                t = op->id;
            }
            auto& cached = tenant_apps_[t];
            if (now - cached.at > std::chrono::seconds(2)) {
                if (!may_block) {
                    return nullptr;  // `why` stays empty: read them first
                }
                auto all = store_.ListAll("PushApp", t);
                cached.apps = all ? std::move(*all) : std::vector<store::Object>();
                cached.at = now;
            }
            std::vector<store::Object> mine;
            for (const auto& a : cached.apps) {
                const json::object* cfg = core::ObjectAt(a.spec, kind);
                if (cfg != nullptr &&
                    (kind == "fcm" || topic.empty() || core::StrAt(*cfg, "topic") == topic)) {
                    mine.push_back(a);
                }
            }
            if (!mine.empty()) {
                candidates = std::move(mine);
                break;
            }
        }
    }
    if (candidates.empty()) {
        why = topic.empty()
                  ? fmt::format(
                        "no {} credentials are configured for this workspace's tenant",
                        kind == "apns" ? "APNs" : "FCM"
                    )
                  : fmt::format("no APNs credentials are configured for the topic {}", topic);
        return nullptr;
    }
    if (kind == "apns" && topic.empty() && candidates.size() > 1) {
        why = "options.topic is required: the tenant has more than one iOS app";
        return nullptr;
    }
    const store::Object& a = candidates.front();
    std::string key = a.id + "@" + std::to_string(a.revision);
    std::lock_guard lock(apps_mu_);
    if (auto it = senders_.find(key); it != senders_.end()) {
        return it->second;
    }
    if (!may_block) {
        return nullptr;  // making a sender reads keys and opens a connection: not here
    }
    auto app = std::make_shared<App>();
    app->id = a.id;
    const json::object& cfg = *core::ObjectAt(a.spec, kind);
    std::string secret;
    if (!keys_.Open(
            core::StrAt(cfg, kind == "apns" ? "key_sealed" : "service_account_sealed"), secret
        )) {
        why = fmt::format(
            "the credentials of push app {} do not open with this server's master key", a.name
        );
        return nullptr;
    }
    if (kind == "apns") {
        app->topic = core::StrAt(cfg, "topic");
        std::string url = core::StrAt(cfg, "url");
        auto s = ApnsSender::Make(
            ApnsApp{
                secret,
                core::StrAt(cfg, "key_id"),
                core::StrAt(cfg, "team_id"),
                app->topic,
                url.empty() ? opts_.apns_url : url,
                !url.empty()},
            ProviderLink{opts_.ca_file, io_},
            clock_
        );
        if (!s) {
            why = s.error().message;
            return nullptr;
        }
        app->apns = std::move(*s);
    } else {
        auto sa = core::ParseJsonObject(secret);
        std::string url = core::StrAt(cfg, "url");
        auto s = FcmSender::Make(
            FcmApp{
                core::StrAt(*sa, "private_key"),
                core::StrAt(cfg, "client_email"),
                core::StrAt(cfg, "project_id"),
                core::StrAt(cfg, "token_uri"),
                url.empty() ? opts_.fcm_url : url,
                !url.empty()},
            ProviderLink{opts_.ca_file, io_},
            clock_
        );
        if (!s) {
            why = s.error().message;
            return nullptr;
        }
        app->fcm = std::move(*s);
    }
    // An app changed: its old sender goes when the last send using it ends.
    std::erase_if(senders_, [&](const auto& kv) { return kv.first.starts_with(a.id + "@"); });
    senders_[key] = app;
    return app;
}

struct PushGateway::Prepared {
    std::shared_ptr<App> app;
    std::string service, device, workspace, tenant, request_id;
    ApnsNote note;
    std::string message;
    std::chrono::steady_clock::time_point started;
    Deadline deadline;
};

std::optional<PushGateway::Prepared> PushGateway::Prepare(
    std::string_view service,
    std::string_view authorization,
    std::string_view body,
    const std::string& request_id,
    bool may_block,
    PushAnswer& early,
    bool& would_block
) {
    would_block = false;
    auto count = [&](std::string_view result) {
        if (sent_ != nullptr) {
            sent_->Inc({std::string(service), std::string(result)});
        }
    };
    auto fail = [&](PushAnswer a) -> std::optional<Prepared> {
        early = std::move(a);
        return std::nullopt;
    };
    if (service != "apn" && service != "gcm") {
        return fail(Error(
            404,
            kUnknownService,
            fmt::format(
                "unknown push service \"{}\": use /push/apn/send or /push/gcm/send", service
            ),
            request_id
        ));
    }
    auto who = workspaces_.Authenticate(authorization, kPushSend, may_block);
    if (!who) {
        if (who.error().status == 0) {
            would_block = true;
            return std::nullopt;
        }
        count("unauthorized");
        // Any refusal of the workspace's token means "do not retry" to the server: 401.
        return fail(Error(
            401,
            kBadToken,
            who.error().description.empty() ? who.error().error : who.error().description,
            request_id
        ));
    }
    std::string month = MonthOf(clock_.Now());
    // The workspace's month so far and its quota, read at most every ten seconds.
    bool need_load = false;
    {
        std::lock_guard lock(usage_mu_);
        auto it = usage_.find(who->workspace_id);
        need_load =
            it == usage_.end() || !it->second.loaded ||
            std::chrono::steady_clock::now() - it->second.quota_at > std::chrono::seconds(10);
    }
    if (need_load) {
        if (!may_block) {
            would_block = true;
            return std::nullopt;
        }
        auto ws = store_.Get(who->workspace_id);
        int64_t quota = ws ? QuotaOf(*ws) : 0;
        std::lock_guard lock(usage_mu_);
        Usage& u = usage_[who->workspace_id];
        u.quota = quota;
        u.quota_at = std::chrono::steady_clock::now();
        u.tenant = who->tenant;
        if (!u.loaded && ws) {
            const json::object* push = core::ObjectAt(ws->status, "push");
            if (push != nullptr && core::StrAt(*push, "month") == month) {
                u.stored = core::IntAt(*push, "sent");
            }
            u.month = month;
            u.loaded = true;
        }
    }
    auto parsed = core::ParseJsonObject(body);
    if (!parsed) {
        count("invalid");
        return fail(Error(
            422,
            kBadNotification,
            R"(the body must be a JSON object {"token", "options"}: )" + parsed.error().message,
            request_id
        ));
    }
    const json::value* token_v = parsed->if_contains("token");
    if (token_v == nullptr || !token_v->is_string() || !DeviceTokenOk(token_v->as_string())) {
        count("invalid");
        return fail(Error(
            422,
            kBadNotification,
            "token must be the device token: letters, digits, '_', '-', ':' or '.', at most 4096",
            request_id
        ));
    }
    Prepared p;
    p.service = std::string(service);
    p.device = std::string(token_v->as_string());
    p.workspace = who->workspace_id;
    p.tenant = who->tenant;
    p.request_id = request_id;
    json::object options;
    if (const json::value* o = parsed->if_contains("options"); o != nullptr) {
        if (!o->is_object()) {
            count("invalid");
            return fail(Error(422, kBadNotification, "options must be an object", request_id));
        }
        options = o->as_object();
    }
    if (std::string e = CheckOptions(options); !e.empty()) {
        count("invalid");
        return fail(Error(422, kBadNotification, e, request_id));
    }
    std::string topic = core::StrAt(options, "topic");
    std::string why;
    p.app = FindApp(who->tenant, service, service == "apn" ? topic : "", may_block, why);
    if (!p.app) {
        if (why.empty()) {
            would_block = true;
            return std::nullopt;
        }
        count("no_app");
        return fail(Error(422, kNoApp, why, request_id));
    }
    // The tenant's entitlement to push notifications, when it has one (metering's).
    switch (auto gate = gate_->Check(who->tenant, "push_notifications", may_block); gate.kind) {
        case core::GateAnswer::kWouldBlock:
            would_block = true;
            return std::nullopt;
        case core::GateAnswer::kDenied:
            count("quota");
            return fail(Error(422, kQuotaSpent, gate.reason, request_id));
        case core::GateAnswer::kAllowed:
            break;
    }
    // Charged only here, past every point where a call from the I/O thread hands the request
    // to a worker (which runs it again): one notification, one token.
    std::chrono::seconds retry{1};
    if (!limiter_.Allow(who->workspace_id, retry)) {
        count("rate_limited");
        return fail(Error(
            429,
            kTooFast,
            fmt::format(
                "this workspace sends more than {} notifications a second; retry in {} s",
                opts_.rate,
                retry.count()
            ),
            request_id,
            static_cast<int>(retry.count())
        ));
    }
    int64_t now_unix = core::UnixSeconds(clock_.Now());
    size_t size = 0;
    if (service == "apn") {
        p.note = BuildApns(options, p.app->topic, now_unix);
        size = p.note.payload.size();
    } else {
        p.message = BuildFcm(options);
        size = p.message.size();
    }
    if (size > kMaxPayload) {
        count("invalid");
        return fail(Error(
            422,
            kBadNotification,
            fmt::format(
                "the notification is {} bytes; providers take at most {}", size, kMaxPayload
            ),
            request_id
        ));
    }
    // The monthly quota: reserve one before sending.
    {
        std::lock_guard lock(usage_mu_);
        Usage& u = usage_[who->workspace_id];
        if (u.month != month) {  // a new month
            u.month = month;
            u.stored = 0;
            u.pending = 0;
        }
        if (u.quota > 0 && u.stored + u.pending + u.inflight >= u.quota) {
            count("quota");
            return fail(Error(
                422,
                kQuotaSpent,
                fmt::format(
                    "the workspace's monthly push quota of {} notifications is spent for {}; it "
                    "renews next month, or with a larger plan",
                    u.quota,
                    month
                ),
                request_id
            ));
        }
        u.inflight++;
    }
    p.started = std::chrono::steady_clock::now();
    p.deadline = p.started + opts_.deadline;
    return p;
}

// Retries (blocking) from `last` until delivered, refused, or out of time.
ProviderOutcome PushGateway::Deliver(const Prepared& p, ProviderOutcome last, int& attempts) {
    std::chrono::milliseconds backoff{100};
    ProviderOutcome out = std::move(last);
    while (out.kind == ProviderOutcome::kRetry) {
        auto wait = std::max(backoff, out.retry_after);
        if (attempts > 0 && std::chrono::steady_clock::now() + wait >= p.deadline) {
            break;
        }
        if (attempts > 0) {
            std::this_thread::sleep_for(wait);
            backoff = std::min(backoff * 2, std::chrono::milliseconds(1000));
        }
        ++attempts;
        out = p.service == "apn" ? p.app->apns->Send(p.device, p.note, p.deadline)
                                 : p.app->fcm->Send(p.device, p.message, p.deadline);
    }
    return out;
}

PushAnswer PushGateway::Finish(const Prepared& p, const ProviderOutcome& out, int attempts) {
    if (seconds_ != nullptr) {
        seconds_->Observe(
            {p.service},
            std::chrono::duration<double>(std::chrono::steady_clock::now() - p.started).count()
        );
    }
    {
        std::lock_guard lock(usage_mu_);
        Usage& u = usage_[p.workspace];
        u.inflight--;
        if (out.kind == ProviderOutcome::kDelivered) {
            u.pending++;
        }
    }
    auto count = [&](std::string_view result) {
        if (sent_ != nullptr) {
            sent_->Inc({p.service, std::string(result)});
        }
    };
    std::string provider = p.service == "apn" ? "APNs" : "FCM";
    switch (out.kind) {
        case ProviderOutcome::kDelivered:
            count("delivered");
            usage_sink_->Record(
                "hangar.push.sent",
                p.tenant,
                json::object{{"service", p.service}, {"workspace", p.workspace}},
                out.id.empty() ? std::string() : "push:" + out.id
            );
            return PushAnswer{
                200, json::object{{"id", out.id}, {"status", 200}, {"requestId", p.request_id}}, 0};
        case ProviderOutcome::kDeadToken:
            count("dead_token");
            return Error(
                406,
                kDeadDevice,
                fmt::format(
                    "{} says the device token is {} ({})",
                    provider,
                    out.provider_status == 410 ? "unregistered" : "invalid",
                    out.reason
                ),
                p.request_id
            );
        case ProviderOutcome::kRejected:
            count("rejected");
            return Error(
                422,
                kProviderRejected,
                fmt::format(
                    "{} refused the notification: {} {}", provider, out.provider_status, out.reason
                ),
                p.request_id
            );
        case ProviderOutcome::kFailed:
            count("provider_auth");
            core::LogWarn(
                "push provider refused our credentials",
                {{"app", std::string_view(p.app->id)}, {"reason", std::string_view(out.reason)}}
            );
            return Error(
                502,
                kProviderAuth,
                fmt::format(
                    "{} refused the push credentials ({}); the operator must fix the push app",
                    provider,
                    out.reason
                ),
                p.request_id,
                60
            );
        case ProviderOutcome::kRetry:
            break;
    }
    count("unavailable");
    return Error(
        503,
        kProviderDown,
        fmt::format(
            "{} is unavailable: {} attempts in {} ms, last {}",
            provider,
            attempts,
            std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::steady_clock::now() - p.started
            )
                .count(),
            out.provider_status != 0 ? fmt::format("{} {}", out.provider_status, out.reason)
                                     : out.reason
        ),
        p.request_id,
        60
    );
}

PushAnswer PushGateway::Send(
    std::string_view service,
    std::string_view authorization,
    std::string_view body,
    const std::string& request_id
) {
    PushAnswer early;
    bool would_block = false;
    auto p = Prepare(service, authorization, body, request_id, true, early, would_block);
    if (!p) {
        return early;
    }
    int attempts = 0;
    ProviderOutcome first;
    first.kind = ProviderOutcome::kRetry;
    ProviderOutcome out = Deliver(*p, first, attempts);
    return Finish(*p, out, attempts);
}

bool PushGateway::SendAsync(
    std::string_view service,
    std::string_view authorization,
    std::string_view body,
    const std::string& request_id,
    const std::function<void(PushAnswer)>& done
) {
    PushAnswer early;
    bool would_block = false;
    auto p = Prepare(service, authorization, body, request_id, false, early, would_block);
    if (would_block) {
        return false;
    }
    if (!p) {
        done(std::move(early));
        return true;
    }
    auto shared = std::make_shared<Prepared>(std::move(*p));
    auto on_outcome = [this, shared, done](ProviderOutcome out) {
        if (out.kind != ProviderOutcome::kRetry) {
            done(Finish(*shared, out, 1));
            return;
        }
        // Back-off sleeps belong on the gateway's own thread, not the connection's.
        std::lock_guard lock(retry_mu_);
        retries_.emplace_back([this, shared, done, out]() mutable {
            int attempts = 1;
            ProviderOutcome last = Deliver(*shared, std::move(out), attempts);
            done(Finish(*shared, last, attempts));
        });
        retry_cv_.notify_one();
    };
    if (shared->service == "apn") {
        shared->app->apns->SendAsync(shared->device, shared->note, on_outcome);
        return true;
    }
    if (!shared->app->fcm->SendAsync(shared->device, shared->message, on_outcome)) {
        // No access token at hand: fetch one (and send) on the retry thread.
        ProviderOutcome retry;
        retry.kind = ProviderOutcome::kRetry;
        std::lock_guard lock(retry_mu_);
        retries_.emplace_back([this, shared, done, retry]() mutable {
            int attempts = 0;
            ProviderOutcome last = Deliver(*shared, std::move(retry), attempts);
            done(Finish(*shared, last, attempts));
        });
        retry_cv_.notify_one();
    }
    return true;
}

void PushGateway::RetryLoop() {
    for (;;) {
        std::function<void()> job;
        {
            std::unique_lock lock(retry_mu_);
            retry_cv_.wait(lock, [&] { return stopping_ || !retries_.empty(); });
            if (retries_.empty()) {
                return;
            }
            job = std::move(retries_.front());
            retries_.pop_front();
        }
        job();
    }
}

void PushGateway::Flush() {
    struct Todo {
        std::string id, tenant, month;
        int64_t delta;
    };
    std::vector<Todo> todo;
    {
        std::lock_guard lock(usage_mu_);
        for (auto& [id, u] : usage_) {
            if (u.pending > 0) {
                todo.push_back({id, u.tenant, u.month, u.pending});
            }
        }
    }
    std::string now = core::FormatRfc3339(clock_.Now());
    int64_t now_ms = core::UnixMillis(clock_.Now());
    for (const auto& t : todo) {
        int64_t total = 0;
        auto r = store_.Update(
            t.id,
            std::nullopt,
            now,
            [&](store::Object& o) -> core::Result<void> {
                json::value& v = o.status["push"];
                if (!v.is_object() || core::StrAt(v.as_object(), "month") != t.month) {
                    v = json::object{{"month", t.month}, {"sent", 0}};
                }
                total = core::IntAt(v.as_object(), "sent") + t.delta;
                v.as_object()["sent"] = total;
                v.as_object()["updated_at"] = now;
                return {};
            },
            store::SystemAudit(now, "controller:push", t.tenant, t.id)
        );
        std::lock_guard lock(usage_mu_);
        Usage& u = usage_[t.id];
        if (r) {
            u.pending -= t.delta;
            u.stored = total;
        } else if (r.error().code == ErrorCode::kNotFound) {
            usage_.erase(t.id);
            continue;
        }
        if (r && tsdb_ != nullptr) {
            metrics::WriteBatch batch;
            std::vector<metrics::LabelView> labels = {
                {"__name__", "hangar_workspace_push_notifications"},
                {"month", t.month},
                {"tenant", t.tenant},
                {"workspace", t.id}};
            std::vector<metrics::Sample> one = {{now_ms, static_cast<double>(total)}};
            batch.Add(labels, one);
            (void)tsdb_->Append(t.tenant, batch);
        }
    }
}

}  // namespace hangar::edge
