#include "hangar/oncall/notifier.hpp"

#include <chrono>
#include <ctime>

#include <curl/curl.h>
#include <fmt/format.h>

#include <boost/json.hpp>

#include "hangar/core/destination.hpp"
#include "hangar/core/ids.hpp"
#include "hangar/core/log.hpp"

namespace hangar::oncall {

namespace json = boost::json;

namespace {

size_t Discard(char*, size_t size, size_t n, void*) {
    return size * n;
}

// curl's socket opener: refuses an address the destination policy does not allow.
curl_socket_t OpenCheckedSocket(void* host, curlsocktype, curl_sockaddr* addr) {
    if (!core::DestinationPolicy::Global().AllowsConnect(
            &addr->addr, *static_cast<std::string*>(host)
        )) {
        core::LogWarn(
            "webhook refused: its address is private, loopback or link-local",
            {{"host", std::string_view(*static_cast<std::string*>(host))}}
        );
        return CURL_SOCKET_BAD;
    }
    return socket(addr->family, addr->socktype, addr->protocol);
}

struct Upload {
    std::string_view data;
    size_t at = 0;
};

size_t ReadUpload(char* buf, size_t size, size_t n, void* p) {
    auto* u = static_cast<Upload*>(p);
    size_t take = std::min(size * n, u->data.size() - u->at);
    std::memcpy(buf, u->data.data() + u->at, take);
    u->at += take;
    return take;
}

// Header values never carry line breaks (no header injection through a title).
std::string OneLine(std::string_view s, size_t max = 300) {
    std::string out;
    for (char c : s) {
        if (out.size() >= max) {
            break;
        }
        out += (c == '\r' || c == '\n' || c == '\t') ? ' ' : c;
    }
    return out;
}

bool SafeAddress(std::string_view a) {
    return !a.empty() && a.size() < 255 && a.find('@') != std::string_view::npos &&
           std::none_of(a.begin(), a.end(), [](char c) {
               return static_cast<unsigned char>(c) <= 0x20 || c == '<' || c == '>' || c == ',';
           });
}

std::string RfcDate() {
    std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    return buf;
}

}  // namespace

Notifier::Notifier(NotifierOptions opts, core::MetricsRegistry* metrics) : opts_(std::move(opts)) {
    if (metrics != nullptr) {
        sent_ = &metrics->Counter(
            "hangar_notifications_total",
            "Notifications by channel and outcome (delivered, failed, dropped).",
            {"channel", "outcome"}
        );
    }
}

Notifier::~Notifier() {
    Stop();
}

void Notifier::Start() {
    for (int i = 0; i < opts_.workers; ++i) {
        threads_.emplace_back([this] { Run(); });
    }
}

void Notifier::Stop() {
    {
        std::lock_guard lock(mu_);
        stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) {
        if (t.joinable()) {
            t.join();
        }
    }
    threads_.clear();
}

bool Notifier::Enqueue(Message m) {
    std::string channel = m.channel == Message::Channel::kEmail ? "email" : "webhook";
    {
        std::lock_guard lock(mu_);
        if (queue_.size() < opts_.max_queue && !stop_) {
            queue_.push_back(std::move(m));
            cv_.notify_one();
            return true;
        }
    }
    if (sent_ != nullptr) {
        sent_->Inc({channel, "dropped"});
    }
    core::LogWarn(
        "notification dropped: the queue is full", {{"channel", std::string_view(channel)}}
    );
    return false;
}

void Notifier::Run() {
    std::unique_lock lock(mu_);
    for (;;) {
        cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
        if (queue_.empty()) {
            return;  // stopping, nothing left
        }
        Message m = std::move(queue_.front());
        queue_.pop_front();
        bool stopping = stop_;
        lock.unlock();
        std::string detail;
        bool ok = false;
        int attempts = stopping ? 1 : opts_.attempts;
        for (int a = 0; a < attempts && !ok; ++a) {
            if (a > 0) {
                std::this_thread::sleep_for(std::chrono::milliseconds(250 << a));
            }
            ok = Deliver(m, detail);
        }
        std::string channel = m.channel == Message::Channel::kEmail ? "email" : "webhook";
        if (sent_ != nullptr) {
            sent_->Inc({channel, ok ? "delivered" : "failed"});
        }
        if (!ok) {
            core::LogWarn(
                "notification failed",
                {{"channel", std::string_view(channel)},
                 {"page", std::string_view(m.page_id)},
                 {"error", std::string_view(detail)}}
            );
        }
        if (outcome_) {
            outcome_(m, ok, detail);
        }
        lock.lock();
    }
}

std::string Notifier::WebhookBody(const Message& m) {
    // Slack's incoming-webhook shape: text for notifications, blocks for the message itself.
    json::object header{
        {"type", "header"},
        {"text", json::object{{"type", "plain_text"}, {"text", OneLine(m.subject, 150)}}}};
    json::object section{
        {"type", "section"},
        {"text", json::object{{"type", "mrkdwn"}, {"text", m.text.substr(0, 2900)}}}};
    json::object body{
        {"text", m.subject + "\n" + m.text}, {"blocks", json::array{header, section}}};
    return json::serialize(body);
}

std::string Notifier::EmailBody(const Message& m) const {
    std::string text;
    // Lines end in CRLF on the wire.
    for (size_t i = 0; i < m.text.size(); ++i) {
        if (m.text[i] == '\n' && (i == 0 || m.text[i - 1] != '\r')) {
            text += '\r';
        }
        text += m.text[i];
    }
    return fmt::format(
        "From: Hangar <{}>\r\nTo: <{}>\r\nSubject: {}\r\nDate: {}\r\nMessage-ID: "
        "<{}@hangar>\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{}\r\n",
        opts_.smtp_from,
        m.target,
        OneLine(m.subject),
        RfcDate(),
        core::NewRequestId(),
        text
    );
}

bool Notifier::Deliver(const Message& m, std::string& detail) {
    CURL* curl = curl_easy_init();
    if (curl == nullptr) {
        detail = "curl_easy_init failed";
        return false;
    }
    char err[CURL_ERROR_SIZE] = {0};
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, err);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, opts_.timeout_seconds);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 5L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Discard);
    struct curl_slist* list = nullptr;
    std::string body;
    Upload up;
    bool ok = false;
    if (m.channel == Message::Channel::kWebhook) {
        body = WebhookBody(m);
        list = curl_slist_append(list, "Content-Type: application/json");
        curl_easy_setopt(curl, CURLOPT_URL, m.target.c_str());
        curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
        // The destination is checked again on the address curl connects to, after its own DNS
        // lookup: a name that resolves to a private address is refused there. No proxy from
        // the environment, no redirects: the checked address is the one called.
        std::string host = core::UrlHost(m.target);
        curl_easy_setopt(curl, CURLOPT_PROXY, "");
        curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(curl, CURLOPT_OPENSOCKETFUNCTION, OpenCheckedSocket);
        curl_easy_setopt(curl, CURLOPT_OPENSOCKETDATA, &host);
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
        CURLcode rc = curl_easy_perform(curl);
        long status = 0;
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
        ok = rc == CURLE_OK && status >= 200 && status < 300;
        detail = rc != CURLE_OK ? std::string(err[0] != 0 ? err : curl_easy_strerror(rc))
                                : fmt::format("HTTP {}", status);
    } else if (opts_.smtp_url.empty()) {
        detail = "no SMTP server is configured (--smtp-url)";
    } else if (!SafeAddress(m.target)) {
        detail = fmt::format("\"{}\" is not an address mail can go to", OneLine(m.target, 100));
    } else {
        body = EmailBody(m);
        up.data = body;
        std::string from = "<" + opts_.smtp_from + ">";
        list = curl_slist_append(list, ("<" + m.target + ">").c_str());
        curl_easy_setopt(curl, CURLOPT_URL, opts_.smtp_url.c_str());
        curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
        curl_easy_setopt(curl, CURLOPT_MAIL_FROM, from.c_str());
        curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, list);
        curl_easy_setopt(curl, CURLOPT_READFUNCTION, ReadUpload);
        curl_easy_setopt(curl, CURLOPT_READDATA, &up);
        curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
        CURLcode rc = curl_easy_perform(curl);
        ok = rc == CURLE_OK;
        detail = ok ? "accepted by the SMTP server"
                    : std::string(err[0] != 0 ? err : curl_easy_strerror(rc));
    }
    curl_slist_free_all(list);
    curl_easy_cleanup(curl);
    return ok;
}

}  // namespace hangar::oncall
