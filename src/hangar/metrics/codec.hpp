#pragma once
// Varint, fixed-width and length-prefixed string coding for the WAL, block indexes and the
// protobuf wire format. Decoder never reads past its input: each getter returns false instead.

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "hangar/metrics/labels.hpp"

namespace hangar::metrics {

inline void PutUvarint(std::string& out, uint64_t v) {
    while (v >= 0x80) {
        out.push_back(static_cast<char>((v & 0x7f) | 0x80));
        v >>= 7;
    }
    out.push_back(static_cast<char>(v));
}
inline void PutVarint(std::string& out, int64_t v) {
    PutUvarint(out, (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
}
inline void PutFixed64(std::string& out, uint64_t v) {
    char b[8];
    std::memcpy(b, &v, 8);  // little-endian hosts only (amd64, arm64), as protobuf's wire
    out.append(b, 8);
}
inline void PutDouble(std::string& out, double v) {
    PutFixed64(out, std::bit_cast<uint64_t>(v));
}
inline void PutString(std::string& out, std::string_view s) {
    PutUvarint(out, s.size());
    out.append(s);
}

// A label set: count, then name and value strings (WAL series records, block indexes).
inline void PutLabels(std::string& out, const Labels& labels) {
    PutUvarint(out, labels.size());
    for (const auto& l : labels) {
        PutString(out, l.name);
        PutString(out, l.value);
    }
}

class Decoder {
public:
    explicit Decoder(std::string_view in) : p_(in) {}
    bool Uvarint(uint64_t& v) {
        v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (p_.empty()) {
                return false;
            }
            auto b = static_cast<uint8_t>(p_[0]);
            p_.remove_prefix(1);
            v |= static_cast<uint64_t>(b & 0x7f) << shift;
            if ((b & 0x80) == 0) {
                return true;
            }
        }
        return false;
    }
    bool Varint(int64_t& v) {
        uint64_t u = 0;
        if (!Uvarint(u)) {
            return false;
        }
        v = static_cast<int64_t>(u >> 1) ^ -static_cast<int64_t>(u & 1);
        return true;
    }
    bool Fixed64(uint64_t& v) {
        if (p_.size() < 8) {
            return false;
        }
        std::memcpy(&v, p_.data(), 8);
        p_.remove_prefix(8);
        return true;
    }
    bool Double(double& v) {
        uint64_t u = 0;
        if (!Fixed64(u)) {
            return false;
        }
        v = std::bit_cast<double>(u);
        return true;
    }
    bool Bytes(size_t n, std::string_view& out) {
        if (p_.size() < n) {
            return false;
        }
        out = p_.substr(0, n);
        p_.remove_prefix(n);
        return true;
    }
    bool String(std::string_view& out) {
        uint64_t n = 0;
        return Uvarint(n) && n <= p_.size() && Bytes(static_cast<size_t>(n), out);
    }
    // A label set written by PutLabels, as views into the input.
    bool Labels(std::vector<LabelView>& out) {
        uint64_t n = 0;
        if (!Uvarint(n)) {
            return false;
        }
        out.clear();
        for (uint64_t i = 0; i < n; ++i) {
            LabelView l;
            if (!String(l.name) || !String(l.value)) {
                return false;
            }
            out.push_back(l);
        }
        return true;
    }
    bool empty() const { return p_.empty(); }
    std::string_view rest() const { return p_; }

private:
    std::string_view p_;
};

uint32_t Crc32c(std::string_view data);

}  // namespace hangar::metrics
