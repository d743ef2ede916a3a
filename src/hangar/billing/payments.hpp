#pragma once
// How billing collects an invoice: a payment provider charges a customer's saved payment method
// off-session and later confirms the outcome by a signed webhook event. One implementation
// speaks Stripe's API (stripe.hpp); tests run it against a local fake that speaks the same.

#include <cstdint>
#include <string>
#include <string_view>

#include "hangar/core/error.hpp"

namespace hangar::billing {

struct PaymentRequest {
    std::string tenant, email, invoice_id, invoice_number;
    std::string customer;        // the provider's customer id, "" the first time
    std::string payment_method;  // the provider's saved method ("pm_...")
    int64_t amount_minor = 0;    // in the currency's minor unit (cents)
    std::string currency;        // ISO 4217, upper case
};

struct PaymentResult {
    bool paid = false;
    std::string customer;    // the provider's customer id (made if there was none)
    std::string payment_id;  // the provider's payment ("pi_...")
    std::string status;      // the provider's word for it ("succeeded", "requires_payment_method")
    std::string error;       // why it failed ("Your card was declined.")
};

// A webhook event after its signature was verified.
struct PaymentEvent {
    std::string id,
        type;  // "evt_...", "payment_intent.succeeded" | "payment_intent.payment_failed"
    std::string payment_id, invoice_id;  // the invoice from the payment's metadata
    std::string error;
};

class PaymentProvider {
public:
    virtual ~PaymentProvider() = default;
    virtual std::string_view Name() const = 0;
    // A charge attempt; an error is a failure to reach the provider (retry later), a declined
    // card is a PaymentResult with paid false.
    virtual core::Result<PaymentResult> Charge(const PaymentRequest& req) = 0;
    // Verifies a webhook's signature header over its exact body at `now` (unix seconds) and
    // reads the event; an error (kUnauthenticated, kInvalidArgument) names what is wrong.
    virtual core::Result<PaymentEvent>
    ReadWebhook(std::string_view body, std::string_view signature, int64_t now) = 0;
};

}  // namespace hangar::billing
