#pragma once
// What a plan charges for usage, in the shapes Lago and Stripe price with, and what a quantity
// costs under each, exactly (Decimal):
// - flat: `amount` per period, whatever the usage;
// - per_unit: quantity × `amount`;
// - graduated: each tier prices the units that fall in it (`up_to` inclusive, the last one
//   open), plus the tier's `flat_fee` once it is entered;
// - volume: the tier the whole quantity falls in prices every unit, plus its `flat_fee`;
// - package: `amount` per started package of `package_size` units, after `free_units`.

#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "hangar/billing/money.hpp"
#include "hangar/core/error.hpp"

namespace hangar::billing {

enum class ChargeModel { kFlat, kPerUnit, kGraduated, kVolume, kPackage };

struct Tier {
    std::optional<Decimal> up_to;  // inclusive; none: the open last tier
    Decimal unit_price;
    Decimal flat_fee;
};

struct Charge {
    std::string meter;  // the meter whose usage it prices ("" for flat)
    ChargeModel model = ChargeModel::kFlat;
    Decimal amount;  // flat fee, unit price, or package price
    std::vector<Tier> tiers;
    Decimal package_size, free_units;
    std::string description;
};

// {meter?, model, amount?, tiers?: [{up_to?, unit_price, flat_fee?}], package_size?,
//  free_units?, description?}; amounts as decimal strings ("0.25") or numbers. Errors name the
// field under `path` ("spec.charges[1].tiers[0].up_to").
core::Result<Charge> ReadCharge(const boost::json::object& o, const std::string& path);
boost::json::object ChargeToJson(const Charge& c);

struct Priced {
    Decimal quantity;
    Decimal amount;      // exact, before rounding to the currency's minor unit
    std::string detail;  // how it was priced, for the invoice line
};
core::Result<Priced> Price(const Charge& c, Decimal quantity);

}  // namespace hangar::billing
