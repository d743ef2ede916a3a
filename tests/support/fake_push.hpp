#pragma once
// Local fakes of APNs and FCM on one HTTP/2-over-TLS server (fake_h2_server.hpp), speaking
// their real protocols:
// - APNs: POST /3/device/<token> with an ES256 provider token (signature, key id, team id and
//   age checked), apns-topic, apns-push-type, apns-priority; a 4 KiB payload limit; the real
//   reasons (BadDeviceToken, Unregistered, MissingTopic, BadTopic, InvalidPushType, BadPriority,
//   PayloadTooLarge, InvalidProviderToken, ServiceUnavailable).
// - FCM: POST /token (the service-account JWT grant, RS256 checked) and
//   POST /v1/projects/<project>/messages:send with the access token it issued; 404 UNREGISTERED,
//   400 INVALID_ARGUMENT, 503 UNAVAILABLE.

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "fake_h2_server.hpp"

namespace hangar::testing {

struct PushRecord {
    std::string service;  // "apns" or "fcm"
    std::string device, topic, push_type, priority, collapse_id;
    std::string payload;  // APNs: the body; FCM: the message JSON
};

class FakePushProviders {
public:
    explicit FakePushProviders(const std::string& dir, std::string project = "hangar-test");
    std::string Url() const { return server_->Url(); }
    int port() const { return server_->port(); }
    const std::string& CaFile() const { return server_->CaFile(); }

    // APNs credentials the fake accepts (a new .p8 key) and the topics it knows.
    std::string apns_key_pem, apns_key_id = "KEY1234567", apns_team_id = "TEAM123456";
    std::set<std::string> topics = {"chat.hangar.ios"};
    // An FCM service-account key file (JSON) the fake accepts.
    std::string ServiceAccountJson() const;

    void KillDevice(const std::string& token);  // Unregistered / UNREGISTERED from now on
    void FailNext(int n, int status = 503);     // the next n sends fail with status
    void GoAwayAfter(int streams) { server_->GoAwayAfter(streams); }
    std::vector<PushRecord> Records();
    int sends() const { return sends_.load(); }          // send requests seen, failed ones too
    int grants() const { return grants_.load(); }        // FCM access tokens issued
    int delivered() const { return delivered_.load(); }  // sends answered 200
    int connections() const { return server_->connections(); }

private:
    H2ServerResponse Handle(const H2ServerRequest& r);
    H2ServerResponse Apns(const H2ServerRequest& r);
    H2ServerResponse Fcm(const H2ServerRequest& r);
    std::unique_ptr<FakeH2Server> server_;
    std::string project_, apns_public_pem_, sa_private_pem_, sa_public_pem_;
    std::string client_email_ = "push@hangar-test.iam.gserviceaccount.com";
    std::mutex mu_;
    std::set<std::string> dead_;
    std::set<std::string> good_jwts_, access_tokens_;
    std::vector<PushRecord> records_;
    int fail_next_ = 0, fail_status_ = 503;
    std::atomic<int> sends_{0}, grants_{0}, delivered_{0};
};

}  // namespace hangar::testing
