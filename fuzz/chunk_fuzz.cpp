// Stored-series decoders of hangar_metrics, fed bytes as a corrupted block file or WAL segment
// would hold them: ChunkIterator (Gorilla XOR chunks) over the whole input, the codec Decoder
// (varints, fixed64, length-prefixed strings, label sets) and Crc32c. Decoded samples that a
// head could really hold (strictly increasing times, no overflowing deltas) are written again
// with ChunkWriter and read back.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "hangar/metrics/chunk.hpp"
#include "hangar/metrics/codec.hpp"

#include "fuzz_support.hpp"

namespace {

namespace metrics = hangar::metrics;

void WalkCodec(std::string_view bytes) {
    metrics::Decoder d(bytes);
    std::vector<metrics::LabelView> labels;
    for (int step = 0; step < 4096 && !d.empty(); ++step) {
        uint64_t u = 0;
        int64_t i = 0;
        double f = 0;
        std::string_view s;
        bool ok = false;
        switch (step % 5) {
            case 0:
                ok = d.Uvarint(u);
                break;
            case 1:
                ok = d.Varint(i);
                break;
            case 2:
                ok = d.String(s);
                break;
            case 3:
                ok = d.Labels(labels);
                break;
            default:
                ok = d.Double(f);
                break;
        }
        if (!ok) {
            break;
        }
    }
    (void)d.rest();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size > hangar::fuzz::kMaxInput) {
        return 0;
    }
    std::string_view bytes = hangar::fuzz::AsText(data, size);
    (void)metrics::Crc32c(bytes);
    WalkCodec(bytes);

    std::vector<metrics::Sample> samples;
    metrics::ChunkIterator it(bytes);
    while (it.Next()) {  // at most 65535 samples: the count is a u16
        samples.push_back({it.t(), it.v()});
    }
    (void)it.error();

    // Keep the prefix a head could hold: t strictly increasing, every delta and
    // delta-of-delta representable (ChunkWriter computes both in int64).
    size_t keep = samples.empty() ? 0 : 1;
    int64_t prev_delta = 0;
    for (; keep < samples.size() && keep < 0xFFFF; ++keep) {
        int64_t delta = 0, dod = 0;
        if (samples[keep].t <= samples[keep - 1].t ||
            __builtin_sub_overflow(samples[keep].t, samples[keep - 1].t, &delta) ||
            __builtin_sub_overflow(delta, prev_delta, &dod)) {
            break;
        }
        prev_delta = delta;
    }
    if (keep == 0) {
        return 0;
    }
    metrics::ChunkWriter w;
    for (size_t i = 0; i < keep; ++i) {
        w.Append(samples[i].t, samples[i].v);
    }
    metrics::ChunkIterator back(w.bytes());
    while (back.Next()) {
    }
    return 0;
}
