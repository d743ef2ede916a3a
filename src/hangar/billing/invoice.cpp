#include "hangar/billing/invoice.hpp"

#include <chrono>

#include <fmt/format.h>

#include "hangar/core/clock.hpp"
#include "hangar/core/json.hpp"

namespace hangar::billing {

namespace json = boost::json;

namespace {

constexpr size_t kMaxCharges = 50;

std::string Time(int64_t t) {
    return core::FormatRfc3339(core::TimePoint(std::chrono::seconds(t)));
}

core::Error TooLarge() {
    return core::MakeError(core::ErrorCode::kUnprocessable, "an amount is too large to invoice");
}

// The line's text: the charge's own description, else what it prices.
std::string Describe(const Charge& c, const std::string& plan) {
    if (!c.description.empty()) {
        return c.description;
    }
    if (c.meter.empty()) {
        return fmt::format("Plan {}", plan);
    }
    return fmt::format("{} on plan {}", c.meter, plan);
}

}  // namespace

core::Result<json::object> ValidatePlanPriceSpec(const json::object& spec) {
    core::ObjectReader r(spec, "spec");
    json::object out;
    if (auto p = r.String("plan", true)) {
        out["plan"] = *p;
    }
    if (auto c = r.String("currency", true)) {
        if (!IsCurrencyCode(*c)) {
            r.SetError("spec.currency", "must be an ISO 4217 code such as EUR or USD");
        }
        out["currency"] = *c;
    }
    const json::array* charges = r.Array("charges", true);
    if (auto f = r.Finish(); !f) {
        return core::Fail(f.error());
    }
    if (charges->empty() || charges->size() > kMaxCharges) {
        return core::Fail(
            core::FieldError("spec.charges", fmt::format("must hold 1 to {} charges", kMaxCharges))
        );
    }
    json::array norm;
    for (size_t i = 0; i < charges->size(); ++i) {
        std::string path = fmt::format("spec.charges[{}]", i);
        if (!(*charges)[i].is_object()) {
            return core::Fail(core::FieldError(path, "must be an object"));
        }
        auto c = ReadCharge((*charges)[i].as_object(), path);
        if (!c) {
            return core::Fail(c.error());
        }
        norm.push_back(ChargeToJson(*c));
    }
    out["charges"] = std::move(norm);
    return out;
}

core::Result<PlanPrice> PlanPriceFromSpec(const json::object& spec) {
    PlanPrice p{core::StrAt(spec, "plan"), core::StrAt(spec, "currency"), {}};
    const json::value* charges = spec.if_contains("charges");
    if (charges == nullptr || !charges->is_array()) {
        return core::Fail(core::MakeError(core::ErrorCode::kInternal, "a plan price has no charges")
        );
    }
    for (size_t i = 0; i < charges->as_array().size(); ++i) {
        const json::value& v = charges->as_array()[i];
        if (!v.is_object()) {
            return core::Fail(
                core::FieldError(fmt::format("spec.charges[{}]", i), "must be an object")
            );
        }
        auto c = ReadCharge(v.as_object(), fmt::format("spec.charges[{}]", i));
        if (!c) {
            return core::Fail(c.error());
        }
        p.charges.push_back(std::move(*c));
    }
    return p;
}

core::Result<json::object>
BuildInvoice(const InvoiceInput& in, const PriceOf& price_of, const UsageOf& usage_of) {
    const ClosedPeriod& period = in.period;
    int64_t month_start = MonthStart(period.start);
    int64_t month_len = NextMonthStart(period.start) - month_start;
    std::string currency;
    int digits = 2;
    json::array lines;
    Decimal subtotal;
    for (const Phase& ph : period.phases) {
        if (ph.paused || ph.to <= ph.from) {
            continue;
        }
        auto price = price_of(ph.plan);
        if (!price) {
            return core::Fail(price.error());
        }
        if (currency.empty()) {
            currency = price->currency;
            digits = MinorDigits(currency);
        } else if (price->currency != currency) {
            return core::Fail(core::MakeError(
                core::ErrorCode::kConflict,
                fmt::format(
                    "plan {} is priced in {}, the invoice in {}", ph.plan, price->currency, currency
                )
            ));
        }
        // The part of the phase outside the trial pays the flat fees.
        int64_t paying_from = std::max(ph.from, std::min(in.trial_end, ph.to));
        int64_t paying = ph.to - paying_from;
        for (const Charge& c : price->charges) {
            json::object line{
                {"type", "charge"},
                {"description", Describe(c, ph.plan)},
                {"plan", ph.plan},
                {"model", ChargeToJson(c).at("model")},
                {"period_start", Time(ph.from)},
                {"period_end", Time(ph.to)},
            };
            Decimal amount;
            if (c.model == ChargeModel::kFlat) {
                auto prorated = c.amount.TimesFraction(paying, month_len);
                if (!prorated) {
                    return core::Fail(TooLarge());
                }
                amount = prorated->Round(digits);
                line["quantity"] = "1";
                line["unit_price"] = c.amount.ToString(digits);
                std::string detail =
                    paying == month_len
                        ? "the whole month"
                        : fmt::format("prorated: {} of {} seconds of the month", paying, month_len);
                if (paying < ph.to - ph.from) {
                    detail += fmt::format("; free during the trial until {}", Time(in.trial_end));
                }
                line["detail"] = detail;
            } else {
                auto used = usage_of(c.meter, ph.from, ph.to);
                if (!used) {
                    return core::Fail(used.error());
                }
                auto priced = Price(c, *used);
                if (!priced) {
                    return core::Fail(priced.error());
                }
                amount = priced->amount.Round(digits);
                line["meter"] = c.meter;
                line["quantity"] = used->ToString();
                line["unit_price"] = c.model == ChargeModel::kPerUnit
                                         ? json::value(c.amount.ToString())
                                         : json::value(nullptr);
                line["detail"] = priced->detail;
            }
            line["amount"] = amount.ToString(digits);
            auto sum = subtotal.Plus(amount);
            if (!sum) {
                return core::Fail(TooLarge());
            }
            subtotal = *sum;
            lines.push_back(std::move(line));
        }
    }
    if (currency.empty()) {
        // Paused all period: nothing to charge, in the current plan's currency.
        if (period.phases.empty()) {
            return core::Fail(
                core::MakeError(core::ErrorCode::kConflict, "the period has no phases")
            );
        }
        auto price = price_of(period.phases.back().plan);
        if (!price) {
            return core::Fail(price.error());
        }
        currency = price->currency;
        digits = MinorDigits(currency);
    }
    Decimal credits;
    json::object out{
        {"subscription", in.subscription},
        {"currency", currency},
        {"period_start", Time(period.start)},
        {"period_end", Time(period.end)},
    };
    if (in.sla && !in.sla->percent.IsZero() && !subtotal.IsZero()) {
        auto credit = subtotal.Times(in.sla->percent);
        auto scaled = credit ? credit->TimesFraction(1, 100) : std::nullopt;
        if (!scaled) {
            return core::Fail(TooLarge());
        }
        credits = scaled->Round(digits);
        lines.push_back(json::object{
            {"type", "credit"},
            {"description",
             fmt::format(
                 "SLA credit for {}: {}% of the subtotal", in.sla->month, in.sla->percent.ToString()
             )},
            {"period_start", Time(period.start)},
            {"period_end", Time(period.end)},
            {"quantity", "1"},
            {"unit_price", nullptr},
            {"amount", Decimal().Minus(credits)->ToString(digits)},
            {"detail", "from the month's SLA report"},
            {"sla_report", in.sla->report},
        });
        out["sla"] = json::object{
            {"month", in.sla->month},
            {"report", in.sla->report},
            {"credit_percent", in.sla->percent.ToString()},
            {"instances", in.sla->instances},
            {"incidents", in.sla->incidents},
        };
    }
    auto taxable = subtotal.Minus(credits);
    if (!taxable) {
        return core::Fail(TooLarge());
    }
    Decimal tax;
    if (in.tax && !in.tax->percent.IsZero()) {
        auto t = taxable->Times(in.tax->percent);
        auto scaled = t ? t->TimesFraction(1, 100) : std::nullopt;
        if (!scaled) {
            return core::Fail(TooLarge());
        }
        tax = scaled->Round(digits);
    }
    auto total = taxable->Plus(tax);
    if (!total) {
        return core::Fail(TooLarge());
    }
    out["lines"] = std::move(lines);
    out["subtotal"] = subtotal.ToString(digits);
    out["credits"] = credits.ToString(digits);
    out["tax"] = json::object{
        {"country", in.tax ? json::value(in.tax->country) : json::value(nullptr)},
        {"name", in.tax ? in.tax->name : std::string("tax")},
        {"rate_percent", in.tax ? in.tax->percent.ToString() : std::string("0")},
        {"amount", tax.ToString(digits)},
    };
    out["total"] = total->ToString(digits);
    return out;
}

}  // namespace hangar::billing
