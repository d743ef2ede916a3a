#pragma once
// Stripe as the payment provider, over its HTTP API (form-encoded requests, a secret key as
// the Bearer): a Customer per tenant made with the saved payment method, then per invoice a
// PaymentIntent confirmed off-session (`confirm=true&off_session=true`) with the invoice in its
// metadata and the invoice id as the Idempotency-Key. A declined card is Stripe's 402 with an
// error object. Webhooks are verified as Stripe signs them: `Stripe-Signature: t=<unix>,v1=<hex
// HMAC-SHA256 of "<t>.<body>" keyed with the endpoint secret>`, within 5 minutes of now.

#include <memory>
#include <string>

#include "hangar/billing/payments.hpp"

namespace hangar::billing {

struct StripeOptions {
    std::string api_base = "https://api.stripe.com";
    std::string secret_key;      // sk_live_... / sk_test_...
    std::string webhook_secret;  // whsec_...
    long timeout_seconds = 20;
};

std::unique_ptr<PaymentProvider> MakeStripeProvider(StripeOptions opts);

// The lower-case hex HMAC-SHA256 of `data` keyed with `key` (what Stripe's v1 signature is).
std::string HmacSha256Hex(std::string_view key, std::string_view data);

}  // namespace hangar::billing
