#include "fake_push.hpp"

#include <chrono>

#include <boost/json.hpp>

#include "hangar/core/strings.hpp"

namespace hangar::testing {

namespace json = boost::json;

namespace {

H2ServerResponse Reason(int status, const std::string& reason) {
    json::object body{{"reason", reason}};
    if (status == 410) {
        body["timestamp"] = std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch()
        )
                                .count();
    }
    return H2ServerResponse{
        status,
        {{"content-type", "application/json"}, {"apns-id", "00000000-0000-0000-0000-000000000000"}},
        json::serialize(body)};
}

H2ServerResponse GoogleError(
    int status,
    const std::string& state,
    const std::string& code,
    const std::string& message
) {
    json::object err{{"code", status}, {"message", message}, {"status", state}};
    if (!code.empty()) {
        err["details"] = json::array{json::object{
            {"@type", "type.googleapis.com/google.firebase.fcm.v1.FcmError"}, {"errorCode", code}}};
    }
    return H2ServerResponse{
        status,
        {{"content-type", "application/json"}},
        json::serialize(json::object{{"error", err}})};
}

std::string FormField(const std::string& body, const std::string& name) {
    auto form = core::ParseForm(body);
    if (form) {
        for (const auto& [k, v] : *form) {
            if (k == name) {
                return v;
            }
        }
    }
    return {};
}

}  // namespace

FakePushProviders::FakePushProviders(const std::string& dir, std::string project)
    : project_(std::move(project)) {
    MakeEcKey(apns_key_pem, apns_public_pem_);
    MakeRsaKey(sa_private_pem_, sa_public_pem_);
    server_ =
        std::make_unique<FakeH2Server>(dir, [this](const H2ServerRequest& r) { return Handle(r); });
}

std::string FakePushProviders::ServiceAccountJson() const {
    return json::serialize(json::object{
        {"type", "service_account"},
        {"project_id", project_},
        {"private_key_id", "k1"},
        {"private_key", sa_private_pem_},
        {"client_email", client_email_},
        {"token_uri", Url() + "/token"}});
}

void FakePushProviders::KillDevice(const std::string& token) {
    std::lock_guard lock(mu_);
    dead_.insert(token);
}

void FakePushProviders::FailNext(int n, int status) {
    std::lock_guard lock(mu_);
    fail_next_ = n;
    fail_status_ = status;
}

std::vector<PushRecord> FakePushProviders::Records() {
    std::lock_guard lock(mu_);
    return records_;
}

H2ServerResponse FakePushProviders::Handle(const H2ServerRequest& r) {
    if (r.path.starts_with("/3/device/")) {
        return Apns(r);
    }
    return Fcm(r);
}

H2ServerResponse FakePushProviders::Apns(const H2ServerRequest& r) {
    sends_++;
    if (r.method != "POST") {
        return Reason(405, "BadMethod");
    }
    {
        std::lock_guard lock(mu_);
        if (fail_next_ > 0) {
            fail_next_--;
            return Reason(
                fail_status_, fail_status_ == 429 ? "TooManyRequests" : "ServiceUnavailable"
            );
        }
    }
    auto auth = r.headers.find("authorization");
    if (auth == r.headers.end() || !auth->second.starts_with("bearer ")) {
        return Reason(403, "MissingProviderToken");
    }
    std::string jwt = auth->second.substr(7);
    bool known = false;
    {
        std::lock_guard lock(mu_);
        known = good_jwts_.contains(jwt);
    }
    if (!known) {
        std::string header, claims;
        if (!VerifyJwt(jwt, apns_public_pem_, header, claims)) {
            return Reason(403, "InvalidProviderToken");
        }
        json::value h = json::parse(header), c = json::parse(claims);
        if (h.at("alg") != "ES256" || h.at("kid") != apns_key_id.c_str() ||
            c.at("iss") != apns_team_id.c_str()) {
            return Reason(403, "InvalidProviderToken");
        }
        int64_t age = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch()
                      )
                          .count() -
                      c.at("iat").to_number<int64_t>();
        if (age > 3600) {
            return Reason(403, "ExpiredProviderToken");
        }
        std::lock_guard lock(mu_);
        good_jwts_.insert(jwt);
    }
    auto header = [&](const char* n) {
        auto it = r.headers.find(n);
        return it == r.headers.end() ? std::string() : it->second;
    };
    std::string topic = header("apns-topic"), type = header("apns-push-type"),
                priority = header("apns-priority");
    if (topic.empty()) {
        return Reason(400, "MissingTopic");
    }
    if (!topics.contains(topic)) {
        return Reason(400, "BadTopic");
    }
    static const std::set<std::string> kTypes = {
        "alert",
        "background",
        "voip",
        "complication",
        "fileprovider",
        "mdm",
        "location",
        "liveactivity",
        "pushtotalk"};
    if (!kTypes.contains(type)) {
        return Reason(400, "InvalidPushType");
    }
    if (type == "background" && priority != "5") {
        return Reason(400, "BadPriority");
    }
    if (r.body.empty()) {
        return Reason(400, "PayloadEmpty");
    }
    if (r.body.size() > 4096) {
        return Reason(413, "PayloadTooLarge");
    }
    std::string device = r.path.substr(10);
    if (device.size() != 64 ||
        device.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) {
        return Reason(400, "BadDeviceToken");
    }
    std::lock_guard lock(mu_);
    if (dead_.contains(device)) {
        return Reason(410, "Unregistered");
    }
    if (records_.size() < 100000) {
        records_.push_back(PushRecord{
            "apns", device, topic, type, priority, header("apns-collapse-id"), r.body});
    }
    delivered_++;
    return H2ServerResponse{
        200,
        {{"apns-id", "11111111-2222-3333-4444-" + std::to_string(100000000000 + records_.size())}},
        ""};
}

H2ServerResponse FakePushProviders::Fcm(const H2ServerRequest& r) {
    if (r.path == "/token") {
        std::string grant = FormField(r.body, "grant_type"),
                    assertion = FormField(r.body, "assertion");
        std::string header, claims;
        if (grant != "urn:ietf:params:oauth:grant-type:jwt-bearer" ||
            !VerifyJwt(assertion, sa_public_pem_, header, claims)) {
            return H2ServerResponse{
                400,
                {{"content-type", "application/json"}},
                R"({"error":"invalid_grant","error_description":"Invalid JWT Signature."})"};
        }
        json::value c = json::parse(claims);
        if (c.at("iss") != client_email_.c_str() || c.at("aud") != (Url() + "/token").c_str() ||
            std::string(c.at("scope").as_string()).find("firebase.messaging") ==
                std::string::npos) {
            return H2ServerResponse{
                400,
                {{"content-type", "application/json"}},
                R"({"error":"invalid_grant","error_description":"Invalid claims."})"};
        }
        std::string token = "ya29.fake-" + std::to_string(++grants_);
        std::lock_guard lock(mu_);
        access_tokens_.insert(token);
        return H2ServerResponse{
            200,
            {{"content-type", "application/json"}},
            json::serialize(json::object{
                {"access_token", token}, {"expires_in", 3599}, {"token_type", "Bearer"}})};
    }
    if (r.path != "/v1/projects/" + project_ + "/messages:send") {
        return GoogleError(404, "NOT_FOUND", "", "unknown path " + r.path);
    }
    sends_++;
    auto auth = r.headers.find("authorization");
    {
        std::lock_guard lock(mu_);
        if (auth == r.headers.end() || !auth->second.starts_with("Bearer ") ||
            !access_tokens_.contains(auth->second.substr(7))) {
            return GoogleError(
                401, "UNAUTHENTICATED", "", "Request had invalid authentication credentials."
            );
        }
        if (fail_next_ > 0) {
            fail_next_--;
            return GoogleError(
                fail_status_,
                fail_status_ == 429 ? "RESOURCE_EXHAUSTED" : "UNAVAILABLE",
                fail_status_ == 429 ? "QUOTA_EXCEEDED" : "UNAVAILABLE",
                "The service is currently unavailable."
            );
        }
    }
    boost::system::error_code ec;
    json::value body = json::parse(r.body, ec);
    if (ec || !body.is_object() || !body.as_object().contains("message") ||
        !body.at("message").is_object()) {
        return GoogleError(
            400, "INVALID_ARGUMENT", "INVALID_ARGUMENT", "Invalid JSON payload received."
        );
    }
    const json::object& m = body.at("message").as_object();
    if (!m.contains("token") || !m.at("token").is_string()) {
        return GoogleError(
            400, "INVALID_ARGUMENT", "INVALID_ARGUMENT", "Recipient of the message is not set."
        );
    }
    if (const json::value* data = m.if_contains("data"); data != nullptr) {
        for (const auto& [k, v] : data->as_object()) {
            if (!v.is_string()) {
                return GoogleError(
                    400,
                    "INVALID_ARGUMENT",
                    "INVALID_ARGUMENT",
                    "Invalid value at 'message.data' (" + std::string(k) + ")"
                );
            }
        }
    }
    if (r.body.size() > 4096 + 512) {
        return GoogleError(400, "INVALID_ARGUMENT", "INVALID_ARGUMENT", "Message is too big");
    }
    std::string device(m.at("token").as_string());
    std::lock_guard lock(mu_);
    if (dead_.contains(device)) {
        return GoogleError(404, "NOT_FOUND", "UNREGISTERED", "Requested entity was not found.");
    }
    if (records_.size() < 100000) {
        records_.push_back(PushRecord{"fcm", device, "", "", "", "", json::serialize(m)});
    }
    delivered_++;
    return H2ServerResponse{
        200,
        {{"content-type", "application/json"}},
        json::serialize(json::object{
            {"name", "projects/" + project_ + "/messages/" + std::to_string(records_.size())}})};
}

}  // namespace hangar::testing
