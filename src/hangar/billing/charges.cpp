#include "hangar/billing/charges.hpp"

#include <fmt/format.h>

#include "hangar/core/json.hpp"

namespace hangar::billing {

namespace json = boost::json;

namespace {

core::Error Bad(const std::string& field, std::string_view why) {
    return core::FieldError(field, std::string(why));
}

// A non-negative amount: a decimal string or a JSON number.
std::optional<Decimal> ReadAmount(const json::value* v) {
    if (v == nullptr) {
        return std::nullopt;
    }
    std::optional<Decimal> d;
    if (v->is_string()) {
        d = Decimal::Parse(v->as_string());
    } else if (v->is_int64()) {
        d = Decimal::FromInt(v->as_int64());
    } else if (v->is_uint64() && v->as_uint64() <= 1'000'000'000'000ULL) {
        d = Decimal::FromInt(static_cast<int64_t>(v->as_uint64()));
    } else if (v->is_double()) {
        d = Decimal::FromDouble(v->as_double());
    }
    if (!d || d->IsNegative()) {
        return std::nullopt;
    }
    return d;
}

std::optional<ChargeModel> ParseModel(std::string_view s) {
    if (s == "flat") {
        return ChargeModel::kFlat;
    }
    if (s == "per_unit") {
        return ChargeModel::kPerUnit;
    }
    if (s == "graduated") {
        return ChargeModel::kGraduated;
    }
    if (s == "volume") {
        return ChargeModel::kVolume;
    }
    if (s == "package") {
        return ChargeModel::kPackage;
    }
    return std::nullopt;
}

std::string_view ModelName(ChargeModel m) {
    switch (m) {
        case ChargeModel::kFlat:
            return "flat";
        case ChargeModel::kPerUnit:
            return "per_unit";
        case ChargeModel::kGraduated:
            return "graduated";
        case ChargeModel::kVolume:
            return "volume";
        case ChargeModel::kPackage:
            return "package";
    }
    return "flat";
}

core::Error Overflow() {
    return core::MakeError(core::ErrorCode::kUnprocessable, "the amount is too large to price");
}

}  // namespace

core::Result<Charge> ReadCharge(const json::object& o, const std::string& path) {
    Charge c;
    for (const auto& [k, v] : o) {
        if (k != "meter" && k != "model" && k != "amount" && k != "tiers" && k != "package_size" &&
            k != "free_units" && k != "description") {
            return core::Fail(Bad(path + "." + std::string(k), "is not a field of a charge"));
        }
    }
    const json::value* model = o.if_contains("model");
    auto m = model != nullptr && model->is_string() ? ParseModel(model->as_string()) : std::nullopt;
    if (!m) {
        return core::Fail(
            Bad(path + ".model", "must be flat, per_unit, graduated, volume or package")
        );
    }
    c.model = *m;
    if (const json::value* meter = o.if_contains("meter")) {
        if (!meter->is_string() || meter->as_string().size() > 64) {
            return core::Fail(Bad(path + ".meter", "must be a meter's slug"));
        }
        c.meter = std::string(meter->as_string());
    }
    if (c.model != ChargeModel::kFlat && c.meter.empty()) {
        return core::Fail(Bad(path + ".meter", "is required: the meter whose usage it prices"));
    }
    if (const json::value* d = o.if_contains("description")) {
        if (!d->is_string() || d->as_string().size() > 200) {
            return core::Fail(Bad(path + ".description", "must be text of at most 200 characters"));
        }
        c.description = std::string(d->as_string());
    }
    bool tiered = c.model == ChargeModel::kGraduated || c.model == ChargeModel::kVolume;
    if (!tiered) {
        auto amount = ReadAmount(o.if_contains("amount"));
        if (!amount) {
            return core::Fail(
                Bad(path + ".amount",
                    "is required: a non-negative decimal (\"0.25\") of at most 9 digits")
            );
        }
        c.amount = *amount;
    } else if (o.contains("amount")) {
        return core::Fail(Bad(path + ".amount", "is priced by the tiers for this model"));
    }
    if (tiered) {
        const json::value* t = o.if_contains("tiers");
        if (t == nullptr || !t->is_array() || t->as_array().empty() || t->as_array().size() > 50) {
            return core::Fail(Bad(path + ".tiers", "must be 1-50 tiers"));
        }
        std::optional<Decimal> last;
        const json::array& tiers = t->as_array();
        for (size_t i = 0; i < tiers.size(); ++i) {
            std::string tp = fmt::format("{}.tiers[{}]", path, i);
            if (!tiers[i].is_object()) {
                return core::Fail(Bad(tp, "must be an object"));
            }
            const json::object& to = tiers[i].as_object();
            Tier tier;
            auto price = ReadAmount(to.if_contains("unit_price"));
            if (!price) {
                return core::Fail(Bad(tp + ".unit_price", "is required: a non-negative decimal"));
            }
            tier.unit_price = *price;
            if (to.contains("flat_fee")) {
                auto fee = ReadAmount(to.if_contains("flat_fee"));
                if (!fee) {
                    return core::Fail(Bad(tp + ".flat_fee", "must be a non-negative decimal"));
                }
                tier.flat_fee = *fee;
            }
            if (const json::value* up = to.if_contains("up_to"); up != nullptr && !up->is_null()) {
                auto u = ReadAmount(up);
                if (!u || (last && *u <= *last)) {
                    return core::Fail(Bad(tp + ".up_to", "must rise from tier to tier"));
                }
                tier.up_to = *u;
                last = *u;
            } else if (i + 1 != tiers.size()) {
                return core::Fail(Bad(tp + ".up_to", "is required but on the last tier"));
            }
            for (const auto& [k, v] : to) {
                (void)v;
                if (k != "up_to" && k != "unit_price" && k != "flat_fee") {
                    return core::Fail(Bad(tp + "." + std::string(k), "is not a field of a tier"));
                }
            }
            c.tiers.push_back(tier);
        }
        if (c.tiers.back().up_to) {
            return core::Fail(Bad(path + ".tiers", "the last tier must be open (no up_to)"));
        }
    } else if (o.contains("tiers")) {
        return core::Fail(Bad(path + ".tiers", "are for graduated and volume charges"));
    }
    if (c.model == ChargeModel::kPackage) {
        auto size = ReadAmount(o.if_contains("package_size"));
        if (!size || size->IsZero()) {
            return core::Fail(Bad(path + ".package_size", "is required: a positive number of units")
            );
        }
        c.package_size = *size;
        if (o.contains("free_units")) {
            auto free = ReadAmount(o.if_contains("free_units"));
            if (!free) {
                return core::Fail(Bad(path + ".free_units", "must be a non-negative number"));
            }
            c.free_units = *free;
        }
    } else if (o.contains("package_size") || o.contains("free_units")) {
        return core::Fail(Bad(path + ".package_size", "is for package charges"));
    }
    return c;
}

json::object ChargeToJson(const Charge& c) {
    json::object o{{"model", ModelName(c.model)}};
    if (!c.meter.empty()) {
        o["meter"] = c.meter;
    }
    if (!c.description.empty()) {
        o["description"] = c.description;
    }
    if (c.model == ChargeModel::kGraduated || c.model == ChargeModel::kVolume) {
        json::array tiers;
        for (const auto& t : c.tiers) {
            json::object to{
                {"unit_price", t.unit_price.ToString()}, {"flat_fee", t.flat_fee.ToString()}};
            if (t.up_to) {
                to["up_to"] = t.up_to->ToString();
            }
            tiers.push_back(std::move(to));
        }
        o["tiers"] = std::move(tiers);
    } else {
        o["amount"] = c.amount.ToString();
    }
    if (c.model == ChargeModel::kPackage) {
        o["package_size"] = c.package_size.ToString();
        o["free_units"] = c.free_units.ToString();
    }
    return o;
}

core::Result<Priced> Price(const Charge& c, Decimal q) {
    Priced p{q, Decimal(), ""};
    auto fail = [] {
        return core::Fail(Overflow());
    };
    switch (c.model) {
        case ChargeModel::kFlat:
            p.amount = c.amount;
            p.detail = "flat fee";
            return p;
        case ChargeModel::kPerUnit: {
            auto a = q.Times(c.amount);
            if (!a) {
                return fail();
            }
            p.amount = *a;
            p.detail = fmt::format("{} × {}", q.ToString(), c.amount.ToString());
            return p;
        }
        case ChargeModel::kGraduated: {
            Decimal from;  // units priced so far
            std::string detail;
            for (const Tier& t : c.tiers) {
                if (q <= from) {
                    break;
                }
                Decimal upper = t.up_to && *t.up_to < q ? *t.up_to : q;
                auto units = upper.Minus(from);
                auto cost = units ? units->Times(t.unit_price) : std::nullopt;
                auto with_fee = cost ? cost->Plus(t.flat_fee) : std::nullopt;
                auto total = with_fee ? p.amount.Plus(*with_fee) : std::nullopt;
                if (!total) {
                    return fail();
                }
                p.amount = *total;
                detail += fmt::format(
                    "{}{} × {}{}",
                    detail.empty() ? "" : " + ",
                    units->ToString(),
                    t.unit_price.ToString(),
                    t.flat_fee.IsZero() ? "" : " + " + t.flat_fee.ToString()
                );
                from = upper;
            }
            p.detail = detail.empty() ? "no usage" : detail;
            return p;
        }
        case ChargeModel::kVolume: {
            for (const Tier& t : c.tiers) {
                if (!t.up_to || q <= *t.up_to) {
                    auto cost = q.Times(t.unit_price);
                    auto total = cost ? cost->Plus(t.flat_fee) : std::nullopt;
                    if (!total) {
                        return fail();
                    }
                    p.amount = *total;
                    p.detail = fmt::format(
                        "{} × {}{}",
                        q.ToString(),
                        t.unit_price.ToString(),
                        t.flat_fee.IsZero() ? "" : " + " + t.flat_fee.ToString()
                    );
                    return p;
                }
            }
            return p;  // unreachable: the last tier is open
        }
        case ChargeModel::kPackage: {
            auto billable = q.Minus(c.free_units);
            if (!billable) {
                return fail();
            }
            Decimal packages;
            if (!billable->IsNegative() && !billable->IsZero()) {
                // packages = ceil(billable / size): the smallest n with n × size >= billable
                // (exact, no division), found by doubling then bisecting.
                const Decimal size = c.package_size;
                const Decimal b = *billable;
                auto covers = [&](int64_t n) {
                    auto cap = size.Times(Decimal::FromInt(n));
                    return cap && *cap >= b;
                };
                int64_t lo = 0, hi = 1;
                while (!covers(hi)) {
                    lo = hi;
                    hi *= 2;
                    if (hi > (int64_t{1} << 50)) {
                        return fail();
                    }
                }
                while (hi - lo > 1) {
                    int64_t mid = lo + (hi - lo) / 2;
                    (covers(mid) ? hi : lo) = mid;
                }
                packages = Decimal::FromInt(hi);
            }
            auto a = packages.Times(c.amount);
            if (!a) {
                return fail();
            }
            p.amount = *a;
            p.detail = fmt::format(
                "{} package(s) of {} × {}{}",
                packages.ToString(),
                c.package_size.ToString(),
                c.amount.ToString(),
                c.free_units.IsZero() ? "" : fmt::format(" after {} free", c.free_units.ToString())
            );
            return p;
        }
    }
    return p;
}

}  // namespace hangar::billing
