// PromQL: hangar::metrics::promql::Parse (lexer, precedence climbing, type checks, the depth
// bound), then Expr::ToString and a second Parse of what it printed; the duration syntax
// (promql::ParseDuration / FormatDuration) on the whole input.
//
// Not evaluated: Engine needs a Tsdb, and Tsdb::Open always creates its blocks/ and wal/
// folders on disk (there is no in-memory mode), which a fuzz target must not do.

#include <cstddef>
#include <cstdint>
#include <string>

#include "hangar/metrics/promql_ast.hpp"

#include "fuzz_support.hpp"

namespace {

namespace promql = hangar::metrics::promql;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size > hangar::fuzz::kMaxInput) {
        return 0;
    }
    std::string_view text = hangar::fuzz::AsText(data, size);

    if (auto d = promql::ParseDuration(text)) {
        (void)promql::FormatDuration(*d);
        (void)promql::FormatDuration(-*d);
    }

    auto e = promql::Parse(text);
    if (!e) {
        return 0;
    }
    const promql::Expr& root = **e;
    (void)promql::ValueTypeName(root.type);
    std::string printed = root.ToString();
    // The printed form is what error messages and the rule evaluator show; parse it again (a
    // failure here is a printer/parser disagreement worth a look, not a crash).
    if (auto again = promql::Parse(printed)) {
        (void)(*again)->ToString();
    }
    return 0;
}
