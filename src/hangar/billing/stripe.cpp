#include "hangar/billing/stripe.hpp"

#include <charconv>
#include <utility>
#include <vector>

#include <curl/curl.h>
#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <boost/json.hpp>

#include "hangar/core/json.hpp"

namespace hangar::billing {

namespace json = boost::json;

namespace {

constexpr size_t kMaxResponse = 1 << 20;
constexpr int64_t kTolerance = 300;  // seconds, as Stripe's libraries allow

size_t Collect(char* data, size_t size, size_t n, void* out) {
    auto* s = static_cast<std::string*>(out);
    if (s->size() + size * n > kMaxResponse) {
        return 0;
    }
    s->append(data, size * n);
    return size * n;
}

using Form = std::vector<std::pair<std::string, std::string>>;

std::string Encode(CURL* curl, const Form& form) {
    std::string out;
    for (const auto& [k, v] : form) {
        char* ek = curl_easy_escape(curl, k.c_str(), static_cast<int>(k.size()));
        char* ev = curl_easy_escape(curl, v.c_str(), static_cast<int>(v.size()));
        out += fmt::format("{}{}={}", out.empty() ? "" : "&", ek, ev);
        curl_free(ek);
        curl_free(ev);
    }
    return out;
}

std::string Lower(std::string s) {
    for (char& c : s) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return s;
}

class Stripe final : public PaymentProvider {
public:
    explicit Stripe(StripeOptions opts) : opts_(std::move(opts)) {}
    std::string_view Name() const override { return "stripe"; }

    core::Result<PaymentResult> Charge(const PaymentRequest& req) override {
        PaymentResult out;
        out.customer = req.customer;
        if (out.customer.empty()) {
            auto c = Post(
                "/v1/customers",
                {{"email", req.email},
                 {"payment_method", req.payment_method},
                 {"invoice_settings[default_payment_method]", req.payment_method},
                 {"metadata[tenant]", req.tenant}},
                "customer-" + req.tenant + "-" + req.payment_method
            );
            if (!c) {
                return core::Fail(c.error());
            }
            if (c->first != 200) {
                return core::Fail(Unexpected("creating the customer", c->first, c->second));
            }
            out.customer = core::StrAt(c->second, "id");
        }
        auto pi = Post(
            "/v1/payment_intents",
            {{"amount", std::to_string(req.amount_minor)},
             {"currency", Lower(req.currency)},
             {"customer", out.customer},
             {"payment_method", req.payment_method},
             {"confirm", "true"},
             {"off_session", "true"},
             {"description", "Invoice " + req.invoice_number},
             {"metadata[invoice]", req.invoice_id},
             {"metadata[tenant]", req.tenant}},
            // One payment per invoice and method: a retry after a lost answer is the same one.
            "invoice-" + req.invoice_id + "-" + req.payment_method
        );
        if (!pi) {
            return core::Fail(pi.error());
        }
        auto [status, body] = *pi;
        if (status == 200) {
            out.payment_id = core::StrAt(body, "id");
            out.status = core::StrAt(body, "status");
            out.paid = out.status == "succeeded";
            return out;
        }
        const json::object* err = core::ObjectAt(body, "error");
        if (status == 402 && err != nullptr) {
            if (const json::object* p = core::ObjectAt(*err, "payment_intent")) {
                out.payment_id = core::StrAt(*p, "id");
                out.status = core::StrAt(*p, "status");
            }
            out.error = core::StrAt(*err, "message");
            return out;
        }
        return core::Fail(Unexpected("confirming the payment", status, body));
    }

    core::Result<PaymentEvent>
    ReadWebhook(std::string_view body, std::string_view signature, int64_t now) override {
        auto unauth = [](std::string m) {
            return core::Fail(core::MakeError(core::ErrorCode::kUnauthenticated, std::move(m)));
        };
        if (opts_.webhook_secret.empty()) {
            return unauth("no Stripe webhook secret is configured (--stripe-webhook-secret)");
        }
        int64_t t = -1;
        std::vector<std::string_view> v1;
        for (size_t pos = 0; pos <= signature.size();) {
            size_t comma = signature.find(',', pos);
            std::string_view part = signature.substr(pos, comma - pos);
            if (part.starts_with("t=")) {
                auto [p, ec] = std::from_chars(part.data() + 2, part.data() + part.size(), t);
                if (ec != std::errc() || p != part.data() + part.size()) {
                    t = -1;
                }
            } else if (part.starts_with("v1=")) {
                v1.push_back(part.substr(3));
            }
            if (comma == std::string_view::npos) {
                break;
            }
            pos = comma + 1;
        }
        if (t < 0 || v1.empty()) {
            return unauth("Stripe-Signature must carry t=<timestamp> and v1=<signature>");
        }
        if (t < now - kTolerance || t > now + kTolerance) {
            return unauth("the Stripe-Signature timestamp is outside the 5-minute tolerance");
        }
        std::string want = HmacSha256Hex(opts_.webhook_secret, fmt::format("{}.{}", t, body));
        bool match = false;
        for (std::string_view got : v1) {
            match = match || (got.size() == want.size() &&
                              CRYPTO_memcmp(got.data(), want.data(), want.size()) == 0);
        }
        if (!match) {
            return unauth("no v1 signature in Stripe-Signature matches the body");
        }
        boost::system::error_code ec;
        json::value v = json::parse(body, ec);
        if (ec || !v.is_object()) {
            return core::Fail(core::MakeError(
                core::ErrorCode::kInvalidArgument, "the webhook body is not a JSON event"
            ));
        }
        PaymentEvent e;
        e.id = core::StrAt(v.as_object(), "id");
        e.type = core::StrAt(v.as_object(), "type");
        const json::object* data = core::ObjectAt(v.as_object(), "data");
        const json::object* obj = data != nullptr ? core::ObjectAt(*data, "object") : nullptr;
        if (obj != nullptr) {
            e.payment_id = core::StrAt(*obj, "id");
            if (const json::object* md = core::ObjectAt(*obj, "metadata")) {
                e.invoice_id = core::StrAt(*md, "invoice");
            }
            if (const json::object* err = core::ObjectAt(*obj, "last_payment_error")) {
                e.error = core::StrAt(*err, "message");
            }
        }
        return e;
    }

private:
    static core::Error Unexpected(std::string_view doing, long status, const json::object& body) {
        std::string why;
        if (const json::object* err = core::ObjectAt(body, "error")) {
            why = core::StrAt(*err, "message");
        }
        return core::MakeError(
            core::ErrorCode::kUnavailable,
            fmt::format("Stripe answered {} {}{}", status, doing, why.empty() ? "" : ": " + why)
        );
    }

    core::Result<std::pair<long, json::object>>
    Post(const std::string& path, const Form& form, const std::string& idempotency_key) {
        CURL* curl = curl_easy_init();
        if (curl == nullptr) {
            return core::Fail(core::MakeError(core::ErrorCode::kUnavailable, "libcurl failed"));
        }
        std::string url = opts_.api_base + path;
        std::string body = Encode(curl, form);
        std::string response;
        curl_slist* headers = nullptr;
        std::string auth = "Authorization: Bearer " + opts_.secret_key;
        std::string idem = "Idempotency-Key: " + idempotency_key;
        headers = curl_slist_append(headers, auth.c_str());
        headers = curl_slist_append(headers, idem.c_str());
        headers = curl_slist_append(headers, "Content-Type: application/x-www-form-urlencoded");
        headers = curl_slist_append(headers, "Stripe-Version: 2024-06-20");
        char err[CURL_ERROR_SIZE] = {0};
        curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
        curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(curl, CURLOPT_TIMEOUT, opts_.timeout_seconds);
        curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 5L);
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Collect);
        curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response);
        curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, err);
        CURLcode rc = curl_easy_perform(curl);
        long status = 0;
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
        curl_slist_free_all(headers);
        curl_easy_cleanup(curl);
        if (rc != CURLE_OK) {
            return core::Fail(core::MakeError(
                core::ErrorCode::kUnavailable,
                fmt::format("Stripe could not be reached at {}: {}", opts_.api_base, err)
            ));
        }
        boost::system::error_code ec;
        json::value v = json::parse(response, ec);
        if (ec || !v.is_object()) {
            return core::Fail(core::MakeError(
                core::ErrorCode::kUnavailable,
                fmt::format("Stripe answered {} with a body that is not a JSON object", status)
            ));
        }
        return std::pair{status, std::move(v.as_object())};
    }

    StripeOptions opts_;
};

}  // namespace

std::string HmacSha256Hex(std::string_view key, std::string_view data) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(
        EVP_sha256(),
        key.data(),
        static_cast<int>(key.size()),
        reinterpret_cast<const unsigned char*>(data.data()),
        data.size(),
        mac,
        &len
    );
    std::string out;
    for (unsigned int i = 0; i < len; ++i) {
        out += fmt::format("{:02x}", mac[i]);
    }
    return out;
}

std::unique_ptr<PaymentProvider> MakeStripeProvider(StripeOptions opts) {
    return std::make_unique<Stripe>(std::move(opts));
}

}  // namespace hangar::billing
