#include "hangar/metrics/chunk.hpp"

#include <bit>
#include <cstdint>
#include <cstring>

namespace hangar::metrics {

namespace {

bool FitsBits(int64_t v, int n) {  // v fits in an n-bit two's complement field
    return v >= -((int64_t{1} << (n - 1)) - 1) && v <= (int64_t{1} << (n - 1));
}

}  // namespace

ChunkWriter::ChunkWriter() {
    buf_.assign(2, '\0');
}

std::string ChunkWriter::Take() {
    std::string out = std::move(buf_);
    *this = ChunkWriter();
    return out;
}

void ChunkWriter::PutBit(bool bit) {
    if (free_ == 0) {
        buf_.push_back('\0');
        free_ = 8;
    }
    if (bit) {
        buf_.back() = static_cast<char>(static_cast<uint8_t>(buf_.back()) | (1u << (free_ - 1)));
    }
    --free_;
}

void ChunkWriter::PutBits(uint64_t value, int n) {
    while (n > 0) {
        if (free_ == 0) {
            buf_.push_back('\0');
            free_ = 8;
        }
        int take = n < free_ ? n : free_;
        uint64_t part = (value >> (n - take)) & ((uint64_t{1} << take) - 1);
        buf_.back() =
            static_cast<char>(static_cast<uint8_t>(buf_.back()) | (part << (free_ - take)));
        free_ -= take;
        n -= take;
    }
}

void ChunkWriter::PutUvarint(uint64_t v) {
    while (v >= 0x80) {
        PutBits((v & 0x7f) | 0x80, 8);
        v >>= 7;
    }
    PutBits(v, 8);
}

void ChunkWriter::PutVarint(int64_t v) {
    PutUvarint((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
}

void ChunkWriter::PutValue(double v) {
    uint64_t bits = std::bit_cast<uint64_t>(v);
    uint64_t x = bits ^ v_bits_;
    v_bits_ = bits;
    if (x == 0) {
        PutBit(false);
        return;
    }
    PutBit(true);
    auto lead = static_cast<uint8_t>(std::countl_zero(x));
    auto trail = static_cast<uint8_t>(std::countr_zero(x));
    if (lead >= 32) {
        lead = 31;  // five bits
    }
    if (leading_ != 0xff && lead >= leading_ && trail >= trailing_) {
        PutBit(false);
        PutBits(x >> trailing_, 64 - leading_ - trailing_);
        return;
    }
    leading_ = lead;
    trailing_ = trail;
    PutBit(true);
    PutBits(lead, 5);
    int sig = 64 - lead - trail;
    PutBits(static_cast<uint64_t>(sig & 63), 6);  // 64 is written as 0
    PutBits(x >> trail, sig);
}

void ChunkWriter::Append(int64_t t, double v) {
    if (count_ == 0) {
        PutVarint(t);
        PutBits(std::bit_cast<uint64_t>(v), 64);
        v_bits_ = std::bit_cast<uint64_t>(v);
        min_t_ = t;
    } else if (count_ == 1) {
        t_delta_ = t - t_;
        PutUvarint(static_cast<uint64_t>(t_delta_));
        PutValue(v);
    } else {
        int64_t delta = t - t_;
        int64_t dod = delta - t_delta_;
        if (dod == 0) {
            PutBit(false);
        } else if (FitsBits(dod, 14)) {
            PutBits(0b10, 2);
            PutBits(static_cast<uint64_t>(dod), 14);
        } else if (FitsBits(dod, 17)) {
            PutBits(0b110, 3);
            PutBits(static_cast<uint64_t>(dod), 17);
        } else if (FitsBits(dod, 20)) {
            PutBits(0b1110, 4);
            PutBits(static_cast<uint64_t>(dod), 20);
        } else {
            PutBits(0b1111, 4);
            PutBits(static_cast<uint64_t>(dod), 64);
        }
        t_delta_ = delta;
        PutValue(v);
    }
    t_ = t;
    ++count_;
    buf_[0] = static_cast<char>(count_ >> 8);
    buf_[1] = static_cast<char>(count_ & 0xff);
}

ChunkIterator::ChunkIterator(std::string_view bytes) : b_(bytes) {
    if (b_.size() < 2) {
        error_ = true;
        return;
    }
    total_ =
        static_cast<uint16_t>((static_cast<uint8_t>(b_[0]) << 8) | static_cast<uint8_t>(b_[1]));
}

double ChunkIterator::v() const {
    return std::bit_cast<double>(v_bits_);
}

bool ChunkIterator::Bit(bool& out) {
    if (pos_ >= b_.size()) {
        return false;
    }
    out = (static_cast<uint8_t>(b_[pos_]) >> (7 - bit_)) & 1;
    if (++bit_ == 8) {
        bit_ = 0;
        ++pos_;
    }
    return true;
}

bool ChunkIterator::Bits(int n, uint64_t& out) {
    // Fast path: eight whole bytes ahead hold the next 64 - bit_ bits.
    if (n > 0 && n <= 64 - bit_ && pos_ + 8 <= b_.size()) {
        uint64_t w = 0;
        std::memcpy(&w, b_.data() + pos_, 8);
        w = __builtin_bswap64(w);
        out = (w << bit_) >> (64 - n);
        int adv = bit_ + n;
        pos_ += static_cast<size_t>(adv / 8);
        bit_ = adv % 8;
        return true;
    }
    out = 0;
    while (n > 0) {
        if (pos_ >= b_.size()) {
            return false;
        }
        int avail = 8 - bit_;
        int take = n < avail ? n : avail;
        uint64_t byte = static_cast<uint8_t>(b_[pos_]);
        uint64_t part = (byte >> (avail - take)) & ((uint64_t{1} << take) - 1);
        out = (out << take) | part;
        bit_ += take;
        n -= take;
        if (bit_ == 8) {
            bit_ = 0;
            ++pos_;
        }
    }
    return true;
}

bool ChunkIterator::Uvarint(uint64_t& out) {
    out = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        uint64_t byte = 0;
        if (!Bits(8, byte)) {
            return false;
        }
        out |= (byte & 0x7f) << shift;
        if ((byte & 0x80) == 0) {
            return true;
        }
    }
    return false;
}

bool ChunkIterator::Varint(int64_t& out) {
    uint64_t u = 0;
    if (!Uvarint(u)) {
        return false;
    }
    out = static_cast<int64_t>(u >> 1) ^ -static_cast<int64_t>(u & 1);
    return true;
}

bool ChunkIterator::ReadValue() {
    bool b = false;
    if (!Bit(b)) {
        return false;
    }
    if (!b) {
        return true;  // same value
    }
    if (!Bit(b)) {
        return false;
    }
    if (b) {
        uint64_t lead = 0, sig = 0;
        if (!Bits(5, lead) || !Bits(6, sig)) {
            return false;
        }
        if (sig == 0) {
            sig = 64;
        }
        if (lead + sig > 64) {
            return false;
        }
        leading_ = static_cast<uint8_t>(lead);
        trailing_ = static_cast<uint8_t>(64 - lead - sig);
    }  // else: reuse the previous window
    uint64_t x = 0;
    int n = 64 - leading_ - trailing_;
    if (!Bits(n, x)) {
        return false;
    }
    v_bits_ ^= x << trailing_;
    return true;
}

bool ChunkIterator::Next() {
    if (error_ || read_ >= total_) {
        return false;
    }
    bool ok = true;
    if (read_ == 0) {
        int64_t t = 0;
        ok = Varint(t) && Bits(64, v_bits_);
        t_ = t;
    } else if (read_ == 1) {
        uint64_t d = 0;
        ok = Uvarint(d);
        t_delta_ = static_cast<int64_t>(d);
        // A corrupted chunk can hold any bits: an overflowing time is an error, not UB.
        ok = ok && d <= static_cast<uint64_t>(INT64_MAX) &&
             !__builtin_add_overflow(t_, t_delta_, &t_);
        ok = ok && ReadValue();
    } else {
        int prefix = 0;
        for (; prefix < 4; ++prefix) {
            bool b = false;
            if (!Bit(b)) {
                ok = false;
                break;
            }
            if (!b) {
                break;
            }
        }
        int64_t dod = 0;
        if (ok && prefix > 0) {
            static constexpr int kWidth[] = {0, 14, 17, 20, 64};
            int w = kWidth[prefix];
            uint64_t raw = 0;
            ok = Bits(w, raw);
            if (w < 64 && raw > (uint64_t{1} << (w - 1))) {
                raw -= uint64_t{1} << w;  // negative
            }
            dod = static_cast<int64_t>(raw);
        }
        ok = ok && !__builtin_add_overflow(t_delta_, dod, &t_delta_) &&
             !__builtin_add_overflow(t_, t_delta_, &t_);
        ok = ok && ReadValue();
    }
    if (!ok) {
        error_ = true;
        return false;
    }
    ++read_;
    return true;
}

}  // namespace hangar::metrics
