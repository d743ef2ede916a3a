#pragma once
// Delivers notifications off the caller's thread: Slack-compatible JSON to webhooks and plain
// text email over SMTP (libcurl). A bounded queue (full: the message is dropped and counted),
// a few retries with back-off for connection errors and 5xx/429, and a callback with each
// outcome so pages can record what reached whom.

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "hangar/core/metrics.hpp"

namespace hangar::oncall {

struct Message {
    enum class Channel { kWebhook, kEmail };
    Channel channel = Channel::kWebhook;
    std::string target;     // URL or email address
    std::string subject;    // email subject; the first line of the webhook text
    std::string text;       // the body (plain text; Slack mrkdwn for webhooks)
    std::string page_id;    // what it is about, for the outcome callback
    std::string recipient;  // the user's name, if it is for a user
    int64_t seq = -1;       // its entry in the page's notifications
};

struct NotifierOptions {
    std::string smtp_url;  // smtp://host:port; empty: email is not sent (and says so)
    std::string smtp_from = "hangar@localhost";
    size_t max_queue = 10000;
    int workers = 2;
    int attempts = 3;
    long timeout_seconds = 10;
};

class Notifier {
public:
    using Outcome = std::function<void(const Message&, bool delivered, const std::string& detail)>;
    Notifier(NotifierOptions opts, core::MetricsRegistry* metrics);
    ~Notifier();
    void SetOutcome(Outcome fn) { outcome_ = std::move(fn); }
    void Start();
    void Stop();  // delivers what is queued (one attempt each), then stops
    bool Enqueue(Message m);
    // The Slack-compatible JSON a webhook receives.
    static std::string WebhookBody(const Message& m);
    // The RFC 5322 message sent over SMTP.
    std::string EmailBody(const Message& m) const;

private:
    void Run();
    bool Deliver(const Message& m, std::string& detail);
    NotifierOptions opts_;
    core::CounterFamily* sent_ = nullptr;
    Outcome outcome_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<Message> queue_;
    bool stop_ = false;
    std::vector<std::thread> threads_;
};

}  // namespace hangar::oncall
