#pragma once
// Exact decimal money (no floating point in amounts): a value in billionths of a unit, held in
// 128 bits, with the operations an invoice needs: sums, a quantity times a price, a proration
// (times a fraction), rounding half away from zero to a currency's minor unit. An operation
// whose result leaves ±10^20 units fails instead of wrapping.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hangar::billing {

class Decimal {
public:
    static constexpr int kDigits = 9;  // fraction digits kept
    Decimal() = default;
    static Decimal FromInt(int64_t units);
    // "12", "-0.5", "1234.567890123" (at most 9 fraction digits, at most 20 integer digits);
    // nullopt when it is not such a number.
    static std::optional<Decimal> Parse(std::string_view s);
    // A JSON number as it was written (boost::json keeps doubles: read from their shortest
    // spelling, so 0.1 is exactly 0.1).
    static std::optional<Decimal> FromDouble(double d);

    std::optional<Decimal> Plus(Decimal o) const;
    std::optional<Decimal> Minus(Decimal o) const;
    // this × o, rounded half away from zero to 9 digits.
    std::optional<Decimal> Times(Decimal o) const;
    // this × num / den, rounded half away from zero to 9 digits (prorations: days used / days).
    std::optional<Decimal> TimesFraction(int64_t num, int64_t den) const;
    // this / o, rounded half away from zero to 9 digits; nullopt for o = 0.
    std::optional<Decimal> DividedBy(Decimal o) const;
    // Rounded half away from zero to `digits` fraction digits (0..9).
    Decimal Round(int digits) const;
    // Up to the next whole number (packages).
    Decimal Ceil() const;

    // "12.50" with exactly `digits` fraction digits (rounded); the shortest exact form without.
    std::string ToString(int digits) const;
    std::string ToString() const;

    bool IsZero() const { return v_ == 0; }
    bool IsNegative() const { return v_ < 0; }
    auto operator<=>(const Decimal&) const = default;

private:
    explicit Decimal(__int128 v) : v_(v) {}
    __int128 v_ = 0;  // billionths
};

// ISO 4217 minor-unit digits: 2 for most, 0 for JPY, KRW, ...; 3 for BHD, KWD, ...
int MinorDigits(std::string_view currency);
// An ISO 4217 alphabetic code: three upper-case letters.
bool IsCurrencyCode(std::string_view currency);

}  // namespace hangar::billing
