#include "hangar/edge/push_providers.hpp"

#include <algorithm>
#include <charconv>
#include <future>

#include <fmt/format.h>

#include <boost/json.hpp>

#include "hangar/core/json.hpp"
#include "hangar/core/strings.hpp"

namespace hangar::edge {

namespace json = boost::json;

namespace {

// "https://host:port/path" → ("https://host:port", "/path").
std::pair<std::string, std::string> SplitUrl(const std::string& url) {
    size_t scheme = url.find("://");
    size_t slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
    if (slash == std::string::npos) {
        return {url, "/"};
    }
    return {url.substr(0, slash), url.substr(slash)};
}

std::chrono::milliseconds RetryAfter(const H2Response& r) {
    std::string v = r.Header("retry-after");
    int64_t s = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), s);
    if (ec == std::errc::result_out_of_range) {
        s = 3600;
    }
    return std::chrono::milliseconds(std::clamp<int64_t>(s, 0, 3600) * 1000);
}

}  // namespace

H2Response Exchange(Http2Client& client, H2Request req, Deadline deadline) {
    auto promise = std::make_shared<std::promise<H2Response>>();
    auto future = promise->get_future();
    client.Submit(std::move(req), [promise](H2Response r) { promise->set_value(std::move(r)); });
    if (future.wait_until(deadline) != std::future_status::ready) {
        H2Response r;
        r.error = "the provider did not answer in time";
        return r;
    }
    return future.get();
}

core::Result<std::unique_ptr<ApnsSender>>
ApnsSender::Make(ApnsApp app, const ProviderLink& link, const core::Clock& clock) {
    auto key = PrivateKey::FromPem(app.key_pem, "EC");
    if (!key) {
        return core::Fail(key.error());
    }
    return std::unique_ptr<ApnsSender>(new ApnsSender(std::move(app), std::move(*key), link, clock)
    );
}

ApnsSender::ApnsSender(
    ApnsApp app,
    PrivateKey key,
    const ProviderLink& link,
    const core::Clock& clock
)
    : app_(std::move(app)), key_(std::move(key)), clock_(clock) {
    client_ = std::make_unique<Http2Client>(
        H2Options{
            .url = app_.url, .ca_file = link.ca_file, .check_destination = app_.url_from_tenant},
        link.io
    );
}

std::string ApnsSender::Token(bool renew) {
    std::lock_guard lock(mu_);
    auto now = clock_.Now();
    if (jwt_.empty() || renew || now - jwt_at_ > std::chrono::minutes(50)) {
        std::string header = json::serialize(json::object{{"alg", "ES256"}, {"kid", app_.key_id}});
        std::string claims = json::serialize(json::object{
            {"iss", app_.team_id}, {"iat", core::UnixSeconds(clock_.Now())}});
        jwt_ = key_.SignJwt(header, claims);
        jwt_at_ = now;
    }
    return jwt_;
}

namespace {

H2Request
ApnsRequest(const std::string& device_token, const ApnsNote& note, const std::string& jwt) {
    H2Request req;
    req.path = "/3/device/" + device_token;
    req.headers = {
        {"authorization", "bearer " + jwt},
        {"apns-topic", note.topic},
        {"apns-push-type", note.push_type},
        {"apns-priority", note.priority},
        {"apns-expiration", std::to_string(note.expiration)},
        {"content-type", "application/json"},
    };
    if (!note.collapse_id.empty()) {
        req.headers.emplace_back("apns-collapse-id", note.collapse_id);
    }
    req.body = note.payload;
    return req;
}

}  // namespace

// What an APNs answer means; `token_refused` is set for a provider token to renew.
ProviderOutcome ApnsOutcome(const H2Response& r, bool& token_refused) {
    ProviderOutcome out;
    token_refused = false;
    out.provider_status = r.status;
    out.id = r.Header("apns-id");
    if (r.status == 0) {
        out.kind = ProviderOutcome::kRetry;
        out.reason = r.error;
        return out;
    }
    boost::system::error_code ec;
    json::value body = r.body.empty() ? json::value() : json::parse(r.body, ec);
    out.reason =
        body.is_object() && body.as_object().contains("reason") && body.at("reason").is_string()
            ? std::string(body.at("reason").as_string())
            : "";
    if (r.status == 200) {
        out.kind = ProviderOutcome::kDelivered;
    } else if (r.status == 410 || (r.status == 400 && out.reason == "BadDeviceToken")) {
        out.kind = ProviderOutcome::kDeadToken;
    } else if (r.status == 403) {
        token_refused =
            out.reason == "ExpiredProviderToken" || out.reason == "InvalidProviderToken";
        out.kind = ProviderOutcome::kFailed;
    } else if (r.status == 429 || r.status >= 500) {
        out.kind = ProviderOutcome::kRetry;
        out.retry_after = RetryAfter(r);
    } else {
        out.kind = ProviderOutcome::kRejected;
    }
    return out;
}

ProviderOutcome
ApnsSender::Send(const std::string& device_token, const ApnsNote& note, Deadline deadline) {
    ProviderOutcome out;
    for (int attempt = 0; attempt < 2; ++attempt) {
        bool refused = false;
        out = ApnsOutcome(
            Exchange(*client_, ApnsRequest(device_token, note, Token(attempt > 0)), deadline),
            refused
        );
        if (!refused) {
            break;  // else: a new provider token, once
        }
    }
    return out;
}

void ApnsSender::SendAsync(
    const std::string& device_token,
    const ApnsNote& note,
    std::function<void(ProviderOutcome)> done
) {
    client_->Submit(
        ApnsRequest(device_token, note, Token(false)),
        [done = std::move(done)](H2Response r) {
            bool refused = false;
            ProviderOutcome out = ApnsOutcome(r, refused);
            if (refused) {
                out.kind = ProviderOutcome::kRetry;  // the blocking path renews the token
            }
            done(std::move(out));
        }
    );
}

core::Result<std::unique_ptr<FcmSender>>
FcmSender::Make(FcmApp app, const ProviderLink& link, const core::Clock& clock) {
    auto key = PrivateKey::FromPem(app.private_key_pem, "RSA");
    if (!key) {
        return core::Fail(key.error());
    }
    return std::unique_ptr<FcmSender>(new FcmSender(std::move(app), std::move(*key), link, clock));
}

FcmSender::FcmSender(FcmApp app, PrivateKey key, const ProviderLink& link, const core::Clock& clock)
    : app_(std::move(app)), key_(std::move(key)), clock_(clock) {
    fcm_ = std::make_unique<Http2Client>(
        H2Options{
            .url = app_.url, .ca_file = link.ca_file, .check_destination = app_.url_from_tenant},
        link.io
    );
    auto [origin, path] = SplitUrl(app_.token_uri);
    token_path_ = path;
    oauth_ = std::make_unique<Http2Client>(
        H2Options{.url = origin, .ca_file = link.ca_file, .check_destination = true}, link.io
    );
}

std::string FcmSender::AccessToken(bool renew, Deadline deadline, ProviderOutcome& why) {
    std::lock_guard lock(mu_);
    auto now = clock_.Now();
    if (!renew && !access_.empty() && now < access_until_) {
        return access_;
    }
    int64_t iat = core::UnixSeconds(clock_.Now());
    std::string header = json::serialize(json::object{{"alg", "RS256"}, {"typ", "JWT"}});
    std::string claims = json::serialize(json::object{
        {"iss", app_.client_email},
        {"scope", "https://www.googleapis.com/auth/firebase.messaging"},
        {"aud", app_.token_uri},
        {"iat", iat},
        {"exp", iat + 3600}});
    H2Request req;
    req.path = token_path_;
    req.headers = {{"content-type", "application/x-www-form-urlencoded"}};
    req.body = "grant_type=" + core::UrlEncode("urn:ietf:params:oauth:grant-type:jwt-bearer") +
               "&assertion=" + key_.SignJwt(header, claims);
    H2Response r = Exchange(*oauth_, std::move(req), deadline);
    auto grant = r.status == 200 ? ReadOAuthGrant(r.body) : std::nullopt;
    if (!grant) {
        why.provider_status = r.status;
        why.kind = r.status == 0 || r.status == 429 || r.status >= 500 ? ProviderOutcome::kRetry
                                                                       : ProviderOutcome::kFailed;
        why.reason = r.status == 0 ? r.error
                                   : fmt::format(
                                         "the OAuth2 grant answered {}: {}",
                                         r.status,
                                         core::ToValidUtf8(r.body.substr(0, 200))
                                     );
        return {};
    }
    access_ = std::move(grant->access_token);
    access_until_ = now + std::chrono::seconds(std::max<int64_t>(grant->expires_in - 300, 1)
                          );  // renew 5 minutes early
    return access_;
}

std::optional<OAuthGrant> ReadOAuthGrant(std::string_view body) {
    boost::system::error_code ec;
    json::value v = json::parse(body, ec);
    const json::object* o = ec ? nullptr : v.if_object();
    const json::value* token = o != nullptr ? o->if_contains("access_token") : nullptr;
    if (token == nullptr || !token->is_string() || token->as_string().empty() ||
        token->as_string().size() > 8192) {
        return std::nullopt;
    }
    OAuthGrant g{std::string(token->as_string()), 3600};
    if (const json::value* e = o->if_contains("expires_in"); e != nullptr && e->is_int64()) {
        g.expires_in = std::clamp<int64_t>(
            e->as_int64(), 1, 86400
        );  // a day at most: no overflow, no stale token kept for ever
    }
    return g;
}

ProviderOutcome FcmOutcome(const H2Response& r) {
    ProviderOutcome out;
    out.provider_status = r.status;
    if (r.status == 0) {
        out.kind = ProviderOutcome::kRetry;
        out.reason = r.error;
        return out;
    }
    boost::system::error_code ec;
    json::value answer = r.body.empty() ? json::value() : json::parse(r.body, ec);
    if (answer.is_object() && answer.as_object().contains("error") &&
        answer.at("error").is_object()) {
        const json::object& e = answer.at("error").as_object();
        if (const json::value* st = e.if_contains("status"); st != nullptr && st->is_string()) {
            out.reason = std::string(st->as_string());
        }
        if (const json::value* det = e.if_contains("details"); det != nullptr && det->is_array()) {
            for (const auto& d : det->as_array()) {
                if (d.is_object() && d.as_object().contains("errorCode") &&
                    d.at("errorCode").is_string()) {
                    out.reason = std::string(d.at("errorCode").as_string());
                }
            }
        }
    }
    if (r.status == 200) {
        out.kind = ProviderOutcome::kDelivered;
        if (answer.is_object() && answer.as_object().contains("name") &&
            answer.at("name").is_string()) {
            out.id = std::string(answer.at("name").as_string());
        }
    } else if (r.status == 404 || out.reason == "UNREGISTERED") {
        out.kind = ProviderOutcome::kDeadToken;
    } else if (r.status == 429 || r.status >= 500) {
        out.kind = ProviderOutcome::kRetry;
        out.retry_after = RetryAfter(r);
    } else if (r.status == 401 || r.status == 403) {
        out.kind = ProviderOutcome::kFailed;
    } else {
        out.kind = ProviderOutcome::kRejected;
    }
    return out;
}

namespace {

std::string FcmBody(const std::string& device_token, const std::string& message_json) {
    boost::system::error_code ec;
    json::value message = json::parse(message_json, ec);
    if (ec || !message.is_object()) {
        return {};
    }
    message.as_object()["token"] = device_token;
    return json::serialize(json::object{{"message", message}});
}

}  // namespace

bool FcmSender::SendAsync(
    const std::string& device_token,
    const std::string& message_json,
    std::function<void(ProviderOutcome)> done
) {
    std::string access;
    {
        std::lock_guard lock(mu_);
        if (access_.empty() || clock_.Now() >= access_until_) {
            return false;
        }
        access = access_;
    }
    std::string body = FcmBody(device_token, message_json);
    if (body.empty()) {
        return false;
    }
    H2Request req;
    req.path = "/v1/projects/" + app_.project_id + "/messages:send";
    req.headers = {{"authorization", "Bearer " + access}, {"content-type", "application/json"}};
    req.body = std::move(body);
    fcm_->Submit(std::move(req), [done = std::move(done)](H2Response r) {
        ProviderOutcome out = FcmOutcome(r);
        if (r.status == 401) {
            out.kind = ProviderOutcome::kRetry;  // the blocking path fetches a new access token
        }
        done(std::move(out));
    });
    return true;
}

ProviderOutcome FcmSender::Send(
    const std::string& device_token,
    const std::string& message_json,
    Deadline deadline
) {
    ProviderOutcome out;
    std::string body = FcmBody(device_token, message_json);
    if (body.empty()) {
        out.kind = ProviderOutcome::kRejected;
        out.reason = "the message is not a JSON object";
        return out;
    }
    for (int attempt = 0; attempt < 2; ++attempt) {
        std::string access = AccessToken(attempt > 0, deadline, out);
        if (access.empty()) {
            return out;
        }
        H2Request req;
        req.path = "/v1/projects/" + app_.project_id + "/messages:send";
        req.headers = {{"authorization", "Bearer " + access}, {"content-type", "application/json"}};
        req.body = body;
        H2Response r = Exchange(*fcm_, std::move(req), deadline);
        out = FcmOutcome(r);
        if (r.status == 401 && attempt == 0) {
            continue;  // the access token was refused: a new one, once
        }
        return out;
    }
    return out;
}

}  // namespace hangar::edge
