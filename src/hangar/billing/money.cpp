#include "hangar/billing/money.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>

#include <fmt/format.h>

namespace hangar::billing {

namespace {

constexpr __int128 kScale = 1'000'000'000;
// ±10^20 units in billionths.
constexpr __int128 kLimit = static_cast<__int128>(100'000'000'000'000'000LL) * 1000 * kScale;

std::optional<Decimal> Checked(__int128 v, auto make) {
    if (v > kLimit || v < -kLimit) {
        return std::nullopt;
    }
    return make(v);
}

// a / b rounded half away from zero (b > 0).
__int128 DivRound(__int128 a, __int128 b) {
    __int128 q = a / b;
    __int128 r = a % b;
    __int128 twice = (r < 0 ? -r : r) * 2;
    if (twice >= b) {
        q += a < 0 ? -1 : 1;
    }
    return q;
}

__int128 Pow10(int n) {
    __int128 p = 1;
    for (int i = 0; i < n; ++i) {
        p *= 10;
    }
    return p;
}

}  // namespace

Decimal Decimal::FromInt(int64_t units) {
    return Decimal(static_cast<__int128>(units) * kScale);
}

std::optional<Decimal> Decimal::Parse(std::string_view s) {
    bool negative = false;
    if (!s.empty() && (s.front() == '-' || s.front() == '+')) {
        negative = s.front() == '-';
        s.remove_prefix(1);
    }
    size_t dot = s.find('.');
    std::string_view whole = s.substr(0, dot);
    std::string_view frac = dot == std::string_view::npos ? std::string_view() : s.substr(dot + 1);
    if (whole.empty() || whole.size() > 20 || frac.size() > kDigits ||
        (dot != std::string_view::npos && frac.empty())) {
        return std::nullopt;
    }
    __int128 v = 0;
    for (char c : whole) {
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
        v = v * 10 + (c - '0');
    }
    v *= kScale;
    __int128 f = 0;
    for (char c : frac) {
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
        f = f * 10 + (c - '0');
    }
    v += f * Pow10(kDigits - static_cast<int>(frac.size()));
    return Checked(negative ? -v : v, [](__int128 x) { return Decimal(x); });
}

std::optional<Decimal> Decimal::FromDouble(double d) {
    if (!std::isfinite(d)) {
        return std::nullopt;
    }
    // The shortest spelling that reads back as d, then exactly that decimal (9 digits at most).
    std::array<char, 64> buf{};
    auto [end, ec] =
        std::to_chars(buf.data(), buf.data() + buf.size(), d, std::chars_format::fixed);
    if (ec != std::errc()) {
        return std::nullopt;
    }
    std::string_view s(buf.data(), static_cast<size_t>(end - buf.data()));
    size_t dot = s.find('.');
    if (dot != std::string_view::npos && s.size() - dot - 1 > kDigits) {
        return std::nullopt;  // more precision than money has
    }
    return Parse(s);
}

std::optional<Decimal> Decimal::Plus(Decimal o) const {
    return Checked(v_ + o.v_, [](__int128 x) { return Decimal(x); });
}

std::optional<Decimal> Decimal::Minus(Decimal o) const {
    return Checked(v_ - o.v_, [](__int128 x) { return Decimal(x); });
}

std::optional<Decimal> Decimal::Times(Decimal o) const {
    __int128 product = 0;
    if (__builtin_mul_overflow(v_, o.v_, &product)) {
        return std::nullopt;
    }
    return Checked(DivRound(product, kScale), [](__int128 x) { return Decimal(x); });
}

std::optional<Decimal> Decimal::TimesFraction(int64_t num, int64_t den) const {
    if (den <= 0 || num < 0) {
        return std::nullopt;
    }
    __int128 product = 0;
    if (__builtin_mul_overflow(v_, static_cast<__int128>(num), &product)) {
        return std::nullopt;
    }
    return Checked(DivRound(product, den), [](__int128 x) { return Decimal(x); });
}

std::optional<Decimal> Decimal::DividedBy(Decimal o) const {
    __int128 scaled = 0;
    if (o.v_ == 0 || __builtin_mul_overflow(v_, kScale, &scaled)) {
        return std::nullopt;
    }
    __int128 den = o.v_;
    if (den < 0) {
        den = -den;
        scaled = -scaled;
    }
    return Checked(DivRound(scaled, den), [](__int128 x) { return Decimal(x); });
}

Decimal Decimal::Round(int digits) const {
    if (digits >= kDigits) {
        return *this;
    }
    __int128 step = Pow10(kDigits - std::max(digits, 0));
    return Decimal(DivRound(v_, step) * step);
}

Decimal Decimal::Ceil() const {
    __int128 q = v_ / kScale;
    if (v_ % kScale > 0) {
        q += 1;
    }
    return Decimal(q * kScale);
}

std::string Decimal::ToString(int digits) const {
    digits = std::clamp(digits, 0, kDigits);
    __int128 r = Round(digits).v_;
    bool negative = r < 0;
    __int128 a = negative ? -r : r;
    __int128 whole = a / kScale;
    __int128 frac = (a % kScale) / Pow10(kDigits - digits);
    std::string w;
    do {
        w.insert(w.begin(), static_cast<char>('0' + static_cast<int>(whole % 10)));
        whole /= 10;
    } while (whole > 0);
    std::string out = (negative ? "-" : "") + w;
    if (digits > 0) {
        std::string f(static_cast<size_t>(digits), '0');
        for (int i = digits - 1; i >= 0; --i) {
            f[static_cast<size_t>(i)] = static_cast<char>('0' + static_cast<int>(frac % 10));
            frac /= 10;
        }
        out += "." + f;
    }
    return out;
}

std::string Decimal::ToString() const {
    std::string s = ToString(kDigits);
    while (s.back() == '0') {
        s.pop_back();
    }
    if (s.back() == '.') {
        s.pop_back();
    }
    return s == "-0" ? "0" : s;
}

int MinorDigits(std::string_view currency) {
    static constexpr std::string_view kZero[] = {
        "BIF",
        "CLP",
        "DJF",
        "GNF",
        "ISK",
        "JPY",
        "KMF",
        "KRW",
        "PYG",
        "RWF",
        "UGX",
        "UYI",
        "VND",
        "VUV",
        "XAF",
        "XOF",
        "XPF"};
    static constexpr std::string_view kThree[] = {"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"};
    for (auto c : kZero) {
        if (c == currency) {
            return 0;
        }
    }
    for (auto c : kThree) {
        if (c == currency) {
            return 3;
        }
    }
    return 2;
}

bool IsCurrencyCode(std::string_view currency) {
    return currency.size() == 3 &&
           std::ranges::all_of(currency, [](char c) { return c >= 'A' && c <= 'Z'; });
}

}  // namespace hangar::billing
