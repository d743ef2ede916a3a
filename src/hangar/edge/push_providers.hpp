#pragma once
// The push providers' own protocols, per app: APNs over HTTP/2 with an ES256 provider token
// reused for 50 minutes (APNs refuses tokens older than an hour and frequent new ones), and FCM
// HTTP v1 with an OAuth2 access token from the service-account JWT grant, cached until shortly
// before it expires. Each keeps one multiplexed HTTP/2 connection per provider host.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "hangar/core/clock.hpp"
#include "hangar/core/error.hpp"
#include "hangar/edge/http2_client.hpp"
#include "hangar/edge/jwt.hpp"

namespace hangar::edge {

struct ProviderOutcome {
    enum Kind {
        kDelivered,
        kDeadToken,  // the provider says the device token is unregistered or invalid
        kRejected,   // bad payload, topic, ...: do not retry
        kRetry,      // 429, 5xx, transport trouble: try again after `retry_after`
        kFailed,     // our credentials are refused
    };
    Kind kind = kFailed;
    int provider_status = 0;
    std::string reason;  // the provider's reason ("BadDeviceToken", "UNREGISTERED", ...)
    std::string id;      // apns-id, or the FCM message name
    std::chrono::milliseconds retry_after{0};
};

using Deadline = std::chrono::steady_clock::time_point;

// How a sender reaches its provider: extra trusted roots, and the io_context its connections
// run on (null: a thread of their own).
struct ProviderLink {
    std::string ca_file;
    boost::asio::io_context* io = nullptr;
};

struct ApnsApp {
    std::string key_pem, key_id, team_id, topic;
    std::string url;               // https://api.push.apple.com
    bool url_from_tenant = false;  // the push app named it: the destination policy applies
};

struct ApnsNote {
    std::string payload;  // the JSON the device gets
    std::string push_type = "alert";
    std::string priority = "10";
    std::string topic;
    std::string collapse_id;
    int64_t expiration = 0;
};

class ApnsSender {
public:
    static core::Result<std::unique_ptr<ApnsSender>>
    Make(ApnsApp app, const ProviderLink& link, const core::Clock& clock);
    ProviderOutcome Send(const std::string& device_token, const ApnsNote& note, Deadline deadline);
    // One attempt without waiting: `done` runs on the connection's thread. A refused provider
    // token comes back as kRetry (the blocking Send renews it).
    void SendAsync(
        const std::string& device_token,
        const ApnsNote& note,
        std::function<void(ProviderOutcome)> done
    );
    uint64_t connections() const { return client_->connections(); }

private:
    ApnsSender(ApnsApp app, PrivateKey key, const ProviderLink& link, const core::Clock& clock);
    std::string Token(bool renew);
    ApnsApp app_;
    PrivateKey key_;
    const core::Clock& clock_;
    std::unique_ptr<Http2Client> client_;
    std::mutex mu_;
    std::string jwt_;
    core::TimePoint jwt_at_{};
};

struct FcmApp {
    std::string private_key_pem, client_email, project_id, token_uri;
    std::string url;               // https://fcm.googleapis.com
    bool url_from_tenant = false;  // the push app named it (token_uri always comes from the tenant)
};

class FcmSender {
public:
    static core::Result<std::unique_ptr<FcmSender>>
    Make(FcmApp app, const ProviderLink& link, const core::Clock& clock);
    // `message` is the JSON of FCM's Message without its token.
    ProviderOutcome
    Send(const std::string& device_token, const std::string& message_json, Deadline deadline);
    // One attempt without waiting, when an access token is at hand; false otherwise.
    bool SendAsync(
        const std::string& device_token,
        const std::string& message_json,
        std::function<void(ProviderOutcome)> done
    );

private:
    FcmSender(FcmApp app, PrivateKey key, const ProviderLink& link, const core::Clock& clock);
    // The cached access token, or a new one; empty with `why` set when the grant failed.
    std::string AccessToken(bool renew, Deadline deadline, ProviderOutcome& why);
    FcmApp app_;
    PrivateKey key_;
    const core::Clock& clock_;
    std::unique_ptr<Http2Client> fcm_, oauth_;
    std::string token_path_;
    std::mutex mu_;
    std::string access_;
    core::TimePoint access_until_{};
};

// Sends one request on `client` and waits for the answer until `deadline`.
H2Response Exchange(Http2Client& client, H2Request req, Deadline deadline);

// How a provider's answer reads. The answer may be APNs' or FCM's, or whatever answers at the
// URL a tenant gave its push app: nothing in it may throw, overflow or be trusted for size.
ProviderOutcome ApnsOutcome(const H2Response& r, bool& token_refused);
ProviderOutcome FcmOutcome(const H2Response& r);
struct OAuthGrant {
    std::string access_token;
    int64_t expires_in = 3600;  // seconds, 1 to 86,400
};
std::optional<OAuthGrant> ReadOAuthGrant(std::string_view body);

}  // namespace hangar::edge
