// Prometheus remote write: hangar::metrics::DecodeWriteRequest (snappy block format, then the
// hand-written protobuf decoder) and DecodeWriteRequestProto on the raw input; for a decoded
// request, the label checks ingest applies (NormalizeLabels) and an Encode/Decode round trip.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <snappy.h>

#include "hangar/metrics/labels.hpp"
#include "hangar/metrics/remote_write.hpp"

#include "fuzz_support.hpp"

namespace {

namespace metrics = hangar::metrics;

// remote_write.cpp refuses bodies that claim more than 64 MiB (kMaxUncompressed, file-local);
// below that it allocates the claimed size before it knows the body is valid. A 6-byte input
// can claim 60 MiB, which would make the fuzzer crawl, so claims between 1 MiB and the limit
// are skipped here; claims past the limit still go in (they are refused before allocating).
constexpr size_t kServerLimit = size_t{64} << 20;
constexpr size_t kFuzzLimit = size_t{1} << 20;

void Inspect(const metrics::WriteBatch& batch) {
    std::vector<metrics::LabelView> labels;
    for (const auto& e : batch.series) {
        auto series = std::span(batch.labels).subspan(e.label_begin, e.label_count);
        labels.assign(series.begin(), series.end());
        (void)metrics::HashLabels(labels);
        if (metrics::NormalizeLabels(labels)) {
            metrics::Labels owned = metrics::ToLabels(labels);
            (void)metrics::SameLabels(owned, labels);
            (void)metrics::FormatLabels(owned);
        }
        (void)std::span(batch.samples).subspan(e.sample_begin, e.sample_count);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size > hangar::fuzz::kMaxInput) {
        return 0;
    }
    std::string_view body = hangar::fuzz::AsText(data, size);

    metrics::WriteBatch direct;
    if (metrics::DecodeWriteRequestProto(body, direct)) {
        Inspect(direct);
    }

    size_t claimed = 0;
    if (snappy::GetUncompressedLength(body.data(), body.size(), &claimed) && claimed > kFuzzLimit &&
        claimed <= kServerLimit) {
        return 0;
    }
    std::string raw;
    metrics::WriteBatch batch;
    if (!metrics::DecodeWriteRequest(body, raw, batch)) {
        return 0;
    }
    Inspect(batch);

    // What the remote-write sender would forward must decode to the same number of series.
    std::string encoded = metrics::EncodeWriteRequest(batch);
    std::string raw2;
    metrics::WriteBatch again;
    (void)metrics::DecodeWriteRequest(encoded, raw2, again);
    return 0;
}
