// A recursive-descent parser for the PromQL subset, with Prometheus's operator precedence
// (or < and/unless < comparisons < +,- < *,/,%,atan2 < ^, ^ right-associative, unary minus
// binding like *) and its type rules.

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <map>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "hangar/metrics/exposition.hpp"
#include "hangar/metrics/promql_ast.hpp"

namespace hangar::metrics::promql {

using core::ErrorCode;
using core::Fail;
using core::Result;

std::string_view ValueTypeName(ValueType t) {
    switch (t) {
        case ValueType::kScalar:
            return "scalar";
        case ValueType::kVector:
            return "instant vector";
        case ValueType::kMatrix:
            return "range vector";
        case ValueType::kString:
            return "string";
    }
    return "?";
}

std::optional<int64_t> ParseDuration(std::string_view s) {
    if (s.empty()) {
        return std::nullopt;
    }
    int64_t total = 0;
    size_t i = 0;
    int last_unit = 100;
    while (i < s.size()) {
        size_t start = i;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
            ++i;
        }
        if (i == start) {
            return std::nullopt;
        }
        int64_t n = 0;
        auto [p, ec] = std::from_chars(s.data() + start, s.data() + i, n);
        if (ec != std::errc()) {
            return std::nullopt;
        }
        static constexpr std::pair<std::string_view, int64_t> kUnits[] = {
            {"ms", 1},
            {"s", 1000},
            {"m", 60'000},
            {"h", 3'600'000},
            {"d", 86'400'000},
            {"w", 604'800'000},
            {"y", 31'536'000'000},
        };
        int unit = -1;
        for (int u = 0; u < 7; ++u) {
            auto name = kUnits[u].first;
            if (s.substr(i, name.size()) == name && !(name == "m" && s.substr(i, 2) == "ms")) {
                unit = u;
                break;
            }
        }
        if (unit < 0) {
            return std::nullopt;
        }
        // Units must go from larger to smaller, each once ("1h30m", not "30m1h").
        int rank = unit == 0 ? 0 : unit;
        if (rank >= last_unit && !(last_unit == 100)) {
            return std::nullopt;
        }
        last_unit = rank == 0 ? -1 : rank;
        i += kUnits[unit].first.size();
        if (n > std::numeric_limits<int64_t>::max() / kUnits[unit].second ||
            total > std::numeric_limits<int64_t>::max() - n * kUnits[unit].second) {
            return std::nullopt;
        }
        total += n * kUnits[unit].second;
    }
    // The lexer carries durations as doubles: past 2^53 ms (285,000 years) the cast back to
    // milliseconds would not be exact, nor, at 2^63, defined.
    if (total > (int64_t{1} << 53)) {
        return std::nullopt;
    }
    return total;
}

std::string FormatDuration(int64_t ms) {
    if (ms == 0) {
        return "0s";
    }
    std::string out;
    if (ms < 0) {
        out = "-";
        ms = -ms;
    }
    static constexpr std::pair<const char*, int64_t> kUnits[] = {
        {"y", 31'536'000'000},
        {"w", 604'800'000},
        {"d", 86'400'000},
        {"h", 3'600'000},
        {"m", 60'000},
        {"s", 1000},
        {"ms", 1},
    };
    for (auto [name, size] : kUnits) {
        if (ms >= size) {
            out += fmt::format("{}{}", ms / size, name);
            ms %= size;
        }
    }
    return out;
}

namespace {

enum class Tok {
    kEof,
    kIdent,
    kNumber,
    kString,
    kDuration,
    kLParen,
    kRParen,
    kLBrace,
    kRBrace,
    kLBracket,
    kRBracket,
    kComma,
    kOp,
    kEq,
    kNe,
    kRe,
    kNre,
    kColon,
    kAt
};

struct Token {
    Tok kind = Tok::kEof;
    std::string text;
    double number = 0;
    size_t pos = 0;
};

const std::set<std::string, std::less<>> kAggregations = {
    "sum",
    "avg",
    "min",
    "max",
    "count",
    "topk",
    "bottomk",
    "quantile",
    "group",
    "stddev",
    "stdvar",
    "count_values"};
const std::set<std::string, std::less<>> kSupportedAggregations =
    {"sum", "avg", "min", "max", "count", "topk", "bottomk", "quantile", "group"};

struct FuncSig {
    std::vector<ValueType> args;
    ValueType ret;
    int optional = 0;  // trailing arguments that may be left out
};

const std::map<std::string, FuncSig, std::less<>>& Functions() {
    using V = ValueType;
    static const std::map<std::string, FuncSig, std::less<>> f = {
        {"rate", {{V::kMatrix}, V::kVector}},
        {"irate", {{V::kMatrix}, V::kVector}},
        {"increase", {{V::kMatrix}, V::kVector}},
        {"delta", {{V::kMatrix}, V::kVector}},
        {"idelta", {{V::kMatrix}, V::kVector}},
        {"avg_over_time", {{V::kMatrix}, V::kVector}},
        {"min_over_time", {{V::kMatrix}, V::kVector}},
        {"max_over_time", {{V::kMatrix}, V::kVector}},
        {"sum_over_time", {{V::kMatrix}, V::kVector}},
        {"count_over_time", {{V::kMatrix}, V::kVector}},
        {"last_over_time", {{V::kMatrix}, V::kVector}},
        {"quantile_over_time", {{V::kScalar, V::kMatrix}, V::kVector}},
        {"histogram_quantile", {{V::kScalar, V::kVector}, V::kVector}},
        {"absent", {{V::kVector}, V::kVector}},
        {"absent_over_time", {{V::kMatrix}, V::kVector}},
        {"scalar", {{V::kVector}, V::kScalar}},
        {"vector", {{V::kScalar}, V::kVector}},
        {"time", {{}, V::kScalar}},
        {"abs", {{V::kVector}, V::kVector}},
        {"ceil", {{V::kVector}, V::kVector}},
        {"floor", {{V::kVector}, V::kVector}},
        {"clamp_min", {{V::kVector, V::kScalar}, V::kVector}},
        {"clamp_max", {{V::kVector, V::kScalar}, V::kVector}},
        {"round", {{V::kVector, V::kScalar}, V::kVector, 1}},
    };
    return f;
}

int Precedence(std::string_view op) {
    if (op == "or")
        return 1;
    if (op == "and" || op == "unless")
        return 2;
    if (op == "==" || op == "!=" || op == "<" || op == ">" || op == "<=" || op == ">=")
        return 3;
    if (op == "+" || op == "-")
        return 4;
    if (op == "*" || op == "/" || op == "%" || op == "atan2")
        return 5;
    if (op == "^")
        return 6;
    return 0;
}

bool IsComparison(std::string_view op) {
    return Precedence(op) == 3;
}
bool IsSetOp(std::string_view op) {
    return op == "and" || op == "or" || op == "unless";
}

class Parser {
public:
    explicit Parser(std::string_view q) : q_(q) {}

    Result<ExprPtr> Run() {
        if (auto r = Lex(); !r) {
            return Fail(r.error());
        }
        auto e = ParseExpr(0);
        if (!e) {
            return e;
        }
        if (Peek().kind != Tok::kEof) {
            return Err(Peek(), fmt::format("unexpected {}", Describe(Peek())));
        }
        return e;
    }

private:
    std::unexpected<core::Error> Err(const Token& at, std::string what) const {
        return Fail(
            ErrorCode::kInvalidArgument, fmt::format("1:{}: parse error: {}", at.pos + 1, what)
        );
    }
    static std::string Describe(const Token& t) {
        switch (t.kind) {
            case Tok::kEof:
                return "end of input";
            case Tok::kString:
                return fmt::format("string \"{}\"", t.text);
            case Tok::kNumber:
                return fmt::format("number \"{}\"", t.text);
            default:
                return fmt::format("\"{}\"", t.text);
        }
    }

    Result<void> Lex() {
        size_t i = 0;
        while (i < q_.size()) {
            char c = q_[i];
            if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
                ++i;
                continue;
            }
            if (c == '#') {  // comment to end of line
                while (i < q_.size() && q_[i] != '\n') {
                    ++i;
                }
                continue;
            }
            Token t;
            t.pos = i;
            auto two = q_.substr(i, 2);
            if (c == '"' || c == '\'' || c == '`') {
                std::string s;
                size_t j = i + 1;
                bool closed = false;
                while (j < q_.size()) {
                    char d = q_[j++];
                    if (d == c) {
                        closed = true;
                        break;
                    }
                    if (d == '\\' && c != '`') {
                        if (j >= q_.size()) {
                            break;
                        }
                        char e = q_[j++];
                        switch (e) {
                            case 'n':
                                s += '\n';
                                break;
                            case 't':
                                s += '\t';
                                break;
                            case 'r':
                                s += '\r';
                                break;
                            case '\\':
                                s += '\\';
                                break;
                            case '"':
                                s += '"';
                                break;
                            case '\'':
                                s += '\'';
                                break;
                            case 'a':
                                s += '\a';
                                break;
                            case 'b':
                                s += '\b';
                                break;
                            case 'f':
                                s += '\f';
                                break;
                            case 'v':
                                s += '\v';
                                break;
                            default:
                                return Fail(
                                    ErrorCode::kInvalidArgument,
                                    fmt::format(
                                        "1:{}: parse error: unknown escape sequence \\{}", j, e
                                    )
                                );
                        }
                    } else {
                        s += d;
                    }
                }
                if (!closed) {
                    return Fail(
                        ErrorCode::kInvalidArgument,
                        fmt::format("1:{}: parse error: unterminated quoted string", i + 1)
                    );
                }
                t.kind = Tok::kString;
                t.text = std::move(s);
                i = j;
            } else if ((c >= '0' && c <= '9') || (c == '.' && i + 1 < q_.size() && q_[i + 1] >= '0' && q_[i + 1] <= '9')) {
                size_t j = i;
                while (j < q_.size() &&
                       (std::isalnum(static_cast<unsigned char>(q_[j])) || q_[j] == '.' ||
                        ((q_[j] == '+' || q_[j] == '-') && j > i &&
                         (q_[j - 1] == 'e' || q_[j - 1] == 'E') &&
                         !(q_.substr(i, 2) == "0x" || q_.substr(i, 2) == "0X")))) {
                    ++j;
                }
                t.text = std::string(q_.substr(i, j - i));
                if (auto d = ParseDuration(t.text)) {
                    t.kind = Tok::kDuration;
                    t.number = static_cast<double>(*d);
                } else if (auto v = ParsePromFloat(t.text)) {
                    t.kind = Tok::kNumber;
                    t.number = *v;
                } else {
                    return Fail(
                        ErrorCode::kInvalidArgument,
                        fmt::format(
                            "1:{}: parse error: bad number or duration \"{}\"", i + 1, t.text
                        )
                    );
                }
                i = j;
            } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':') {
                size_t j = i;
                while (j < q_.size() && (std::isalnum(static_cast<unsigned char>(q_[j])) ||
                                         q_[j] == '_' || q_[j] == ':')) {
                    ++j;
                }
                t.text = std::string(q_.substr(i, j - i));
                std::string lower = t.text;
                std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char x) {
                    return std::tolower(x);
                });
                if (lower == "inf" || lower == "nan") {
                    t.kind = Tok::kNumber;
                    t.number = *ParsePromFloat(lower);
                } else if (lower == "and" || lower == "or" || lower == "unless" || lower == "atan2") {
                    t.kind = Tok::kOp;
                    t.text = lower;
                } else {
                    t.kind = Tok::kIdent;
                }
                i = j;
            } else if (two == "==" || two == "!=" || two == "<=" || two == ">=" || two == "=~" || two == "!~") {
                t.text = std::string(two);
                t.kind = two == "=~" ? Tok::kRe : two == "!~" ? Tok::kNre : Tok::kOp;
                i += 2;
            } else {
                t.text = std::string(1, c);
                switch (c) {
                    case '(':
                        t.kind = Tok::kLParen;
                        break;
                    case ')':
                        t.kind = Tok::kRParen;
                        break;
                    case '{':
                        t.kind = Tok::kLBrace;
                        break;
                    case '}':
                        t.kind = Tok::kRBrace;
                        break;
                    case '[':
                        t.kind = Tok::kLBracket;
                        break;
                    case ']':
                        t.kind = Tok::kRBracket;
                        break;
                    case ',':
                        t.kind = Tok::kComma;
                        break;
                    case '=':
                        t.kind = Tok::kEq;
                        break;
                    case ':':
                        t.kind = Tok::kColon;
                        break;
                    case '@':
                        t.kind = Tok::kAt;
                        break;
                    case '+':
                    case '-':
                    case '*':
                    case '/':
                    case '%':
                    case '^':
                    case '<':
                    case '>':
                        t.kind = Tok::kOp;
                        break;
                    default:
                        return Fail(
                            ErrorCode::kInvalidArgument,
                            fmt::format("1:{}: parse error: unexpected character '{}'", i + 1, c)
                        );
                }
                ++i;
            }
            toks_.push_back(std::move(t));
        }
        Token eof;
        eof.pos = q_.size();
        toks_.push_back(eof);
        return {};
    }

    const Token& Peek(size_t ahead = 0) const {
        return toks_[std::min(p_ + ahead, toks_.size() - 1)];
    }
    const Token& Next() { return toks_[std::min(p_++, toks_.size() - 1)]; }
    bool IsKeyword(const Token& t, std::string_view kw) const {
        if (t.kind != Tok::kIdent || t.text.size() != kw.size()) {
            return false;
        }
        return std::equal(t.text.begin(), t.text.end(), kw.begin(), [](char a, char b) {
            return std::tolower(a) == b;
        });
    }
    Result<void> Expect(Tok kind, std::string_view what) {
        if (Peek().kind != kind) {
            return Err(Peek(), fmt::format("expected {}, got {}", what, Describe(Peek())));
        }
        ++p_;
        return {};
    }

    // Every descent passes through here, so one counter bounds the parser's recursion; heights
    // bound the tree itself (a long chain of "1+1+..." is deep without recursing here).
    Result<ExprPtr> ParseExpr(int min_prec) {
        if (depth_ >= kMaxQueryDepth) {
            return Err(
                Peek(), fmt::format("the query nests deeper than {} levels", kMaxQueryDepth)
            );
        }
        ++depth_;
        auto e = ParseChain(min_prec);
        --depth_;
        if (e && (*e)->height > kMaxQueryDepth) {
            return Err(
                Peek(), fmt::format("the query nests deeper than {} levels", kMaxQueryDepth)
            );
        }
        return e;
    }

    // A node's height from its children's (they were bounded when they were made).
    static void SetHeight(Expr& e) {
        int h = e.param ? e.param->height : 0;
        for (const auto& a : e.args) {
            h = std::max(h, a->height);
        }
        e.height = h + 1;
    }

    Result<ExprPtr> ParseChain(int min_prec) {
        auto lhs = ParseUnary();
        if (!lhs) {
            return lhs;
        }
        for (int guard = 0; guard < 100'000; ++guard) {
            const Token& op = Peek();
            if (op.kind != Tok::kOp) {
                break;
            }
            int prec = Precedence(op.text);
            if (prec == 0 || prec < min_prec) {
                break;
            }
            Token opt = Next();
            auto e = std::make_unique<Expr>();
            e->kind = Expr::Kind::kBinary;
            e->text = opt.text;
            if (IsKeyword(Peek(), "bool")) {
                if (!IsComparison(opt.text)) {
                    return Err(Peek(), "bool modifier can only be used on comparison operators");
                }
                ++p_;
                e->return_bool = true;
            }
            if (IsKeyword(Peek(), "on") || IsKeyword(Peek(), "ignoring")) {
                VectorMatching m;
                m.on = IsKeyword(Next(), "on");
                auto l = ParseLabelList();
                if (!l) {
                    return Fail(l.error());
                }
                m.labels = std::move(*l);
                if (IsKeyword(Peek(), "group_left") || IsKeyword(Peek(), "group_right")) {
                    m.card = IsKeyword(Next(), "group_left") ? Card::kManyToOne : Card::kOneToMany;
                    if (Peek().kind == Tok::kLParen) {
                        auto inc = ParseLabelList();
                        if (!inc) {
                            return Fail(inc.error());
                        }
                        m.include = std::move(*inc);
                    }
                }
                e->matching = std::move(m);
            } else if (IsKeyword(Peek(), "group_left") || IsKeyword(Peek(), "group_right")) {
                return Err(
                    Peek(), "group_left and group_right need on(...) or ignoring(...) first"
                );
            }
            // ^ is right-associative; everything else left.
            auto rhs = ParseExpr(opt.text == "^" ? prec : prec + 1);
            if (!rhs) {
                return rhs;
            }
            e->args.push_back(std::move(*lhs));
            e->args.push_back(std::move(*rhs));
            SetHeight(*e);
            if (e->height > kMaxQueryDepth) {
                return Err(
                    opt, fmt::format("the query nests deeper than {} levels", kMaxQueryDepth)
                );
            }
            if (auto c = CheckBinary(*e, opt); !c) {
                return Fail(c.error());
            }
            lhs = std::move(e);
        }
        return lhs;
    }

    Result<void> CheckBinary(Expr& e, const Token& at) {
        const Expr& l = *e.args[0];
        const Expr& r = *e.args[1];
        for (const Expr* side : {&l, &r}) {
            if (side->type != ValueType::kScalar && side->type != ValueType::kVector) {
                return Err(
                    at,
                    fmt::format(
                        "binary expression must contain only scalar and instant vector types"
                    )
                );
            }
        }
        bool both_scalar = l.type == ValueType::kScalar && r.type == ValueType::kScalar;
        if (IsComparison(e.text) && both_scalar && !e.return_bool) {
            return Err(at, "comparisons between scalars must use BOOL modifier");
        }
        if (IsSetOp(e.text)) {
            if (l.type != ValueType::kVector || r.type != ValueType::kVector) {
                return Err(
                    at,
                    fmt::format(
                        "set operator \"{}\" not allowed in binary scalar expression", e.text
                    )
                );
            }
            if (e.matching && e.matching->card != Card::kOneToOne) {
                return Err(at, fmt::format("no grouping allowed for \"{}\" operation", e.text));
            }
        }
        if (e.matching && (l.type != ValueType::kVector || r.type != ValueType::kVector)) {
            return Err(at, "vector matching only allowed between instant vectors");
        }
        if (e.matching) {
            for (const auto& inc : e.matching->include) {
                if (e.matching->on &&
                    std::find(e.matching->labels.begin(), e.matching->labels.end(), inc) !=
                        e.matching->labels.end()) {
                    return Err(
                        at,
                        fmt::format(
                            "label \"{}\" must not occur in ON and GROUP clause at once", inc
                        )
                    );
                }
            }
        }
        e.type = both_scalar ? ValueType::kScalar : ValueType::kVector;
        return {};
    }

    Result<std::vector<std::string>> ParseLabelList() {
        if (auto r = Expect(Tok::kLParen, "\"(\""); !r) {
            return Fail(r.error());
        }
        std::vector<std::string> out;
        while (Peek().kind != Tok::kRParen) {
            const Token& t = Next();
            if (t.kind != Tok::kIdent || !ValidLabelName(t.text)) {
                return Err(t, fmt::format("expected a label name, got {}", Describe(t)));
            }
            out.push_back(t.text);
            if (Peek().kind == Tok::kComma) {
                ++p_;
            } else if (Peek().kind != Tok::kRParen) {
                return Err(
                    Peek(),
                    fmt::format("expected \",\" or \")\" in a label list, got {}", Describe(Peek()))
                );
            }
        }
        ++p_;
        return out;
    }

    Result<ExprPtr> ParseUnary() {
        if (Peek().kind == Tok::kOp && (Peek().text == "-" || Peek().text == "+")) {
            Token op = Next();
            auto operand = ParseExpr(Precedence("^"));  // -2^2 is -(2^2)
            if (!operand) {
                return operand;
            }
            if ((*operand)->type != ValueType::kScalar && (*operand)->type != ValueType::kVector) {
                return Err(
                    op,
                    "unary expression only allowed on expressions of type scalar or instant vector"
                );
            }
            if (op.text == "+") {
                return operand;
            }
            if ((*operand)->kind == Expr::Kind::kNumber) {
                (*operand)->number = -(*operand)->number;
                return operand;
            }
            auto e = std::make_unique<Expr>();
            e->kind = Expr::Kind::kUnary;
            e->text = "-";
            e->type = (*operand)->type;
            e->args.push_back(std::move(*operand));
            SetHeight(*e);
            return e;
        }
        return ParsePostfix();
    }

    Result<ExprPtr> ParsePostfix() {
        auto e = ParsePrimary();
        if (!e) {
            return e;
        }
        for (int guard = 0; guard < 8; ++guard) {
            if (Peek().kind == Tok::kLBracket) {
                Token at = Next();
                if ((*e)->kind != Expr::Kind::kVectorSelector || (*e)->offset_ms != 0) {
                    if ((*e)->kind == Expr::Kind::kVectorSelector) {
                        return Err(at, "the range goes before offset: foo[5m] offset 1h");
                    }
                    return Err(
                        at,
                        "ranges are only allowed for vector selectors (subqueries are not "
                        "supported)"
                    );
                }
                const Token& d = Next();
                if (d.kind != Tok::kDuration) {
                    return Err(
                        d,
                        fmt::format("expected a duration such as 5m in [...], got {}", Describe(d))
                    );
                }
                if (Peek().kind == Tok::kColon ||
                    (Peek().kind == Tok::kIdent && Peek().text.starts_with(':'))) {
                    return Err(Peek(), "subqueries are not supported");
                }
                if (d.number <= 0) {
                    return Err(d, "a range must be longer than 0s");
                }
                if (auto r = Expect(Tok::kRBracket, "\"]\""); !r) {
                    return Fail(r.error());
                }
                (*e)->kind = Expr::Kind::kMatrixSelector;
                (*e)->type = ValueType::kMatrix;
                (*e)->range_ms = static_cast<int64_t>(d.number);
            } else if (IsKeyword(Peek(), "offset")) {
                Token at = Next();
                if ((*e)->kind != Expr::Kind::kVectorSelector &&
                    (*e)->kind != Expr::Kind::kMatrixSelector) {
                    return Err(
                        at,
                        "offset modifier must be preceded by an instant vector selector or range "
                        "vector selector"
                    );
                }
                if ((*e)->offset_ms != 0) {
                    return Err(at, "offset may not be set multiple times");
                }
                bool neg = false;
                if (Peek().kind == Tok::kOp && Peek().text == "-") {
                    neg = true;
                    ++p_;
                }
                const Token& d = Next();
                if (d.kind != Tok::kDuration) {
                    return Err(
                        d, fmt::format("expected a duration after offset, got {}", Describe(d))
                    );
                }
                (*e)->offset_ms = static_cast<int64_t>(neg ? -d.number : d.number);
            } else if (Peek().kind == Tok::kAt) {
                return Err(Peek(), "the @ modifier is not supported");
            } else {
                break;
            }
        }
        return e;
    }

    Result<ExprPtr> ParsePrimary() {
        const Token& t = Peek();
        auto e = std::make_unique<Expr>();
        switch (t.kind) {
            case Tok::kNumber:
                ++p_;
                e->kind = Expr::Kind::kNumber;
                e->number = t.number;
                return e;
            case Tok::kDuration:
                // A bare integer lexes as a duration only with a unit; "5m" here is an error.
                if (!t.text.empty() && std::all_of(t.text.begin(), t.text.end(), [](char c) {
                        return c >= '0' && c <= '9';
                    })) {
                    ++p_;
                    e->kind = Expr::Kind::kNumber;
                    e->number = std::stod(t.text);
                    return e;
                }
                return Err(t, fmt::format("unexpected duration \"{}\"", t.text));
            case Tok::kString:
                ++p_;
                e->kind = Expr::Kind::kString;
                e->type = ValueType::kString;
                e->text = t.text;
                return e;
            case Tok::kLParen: {
                ++p_;
                auto inner = ParseExpr(0);
                if (!inner) {
                    return inner;
                }
                if (auto r = Expect(Tok::kRParen, "\")\""); !r) {
                    return Fail(r.error());
                }
                e->kind = Expr::Kind::kParen;
                e->type = (*inner)->type;
                e->args.push_back(std::move(*inner));
                SetHeight(*e);
                return e;
            }
            case Tok::kLBrace:
                return ParseSelector("");
            case Tok::kIdent: {
                std::string lower = t.text;
                std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) {
                    return std::tolower(c);
                });
                if (kAggregations.contains(lower) &&
                    (Peek(1).kind == Tok::kLParen || IsKeyword(Peek(1), "by") ||
                     IsKeyword(Peek(1), "without"))) {
                    return ParseAggregation(lower);
                }
                if (Peek(1).kind == Tok::kLParen) {
                    return ParseCall();
                }
                ++p_;
                return ParseSelector(t.text);
            }
            default:
                return Err(t, fmt::format("unexpected {}", Describe(t)));
        }
    }

    Result<ExprPtr> ParseSelector(const std::string& name) {
        auto e = std::make_unique<Expr>();
        e->kind = Expr::Kind::kVectorSelector;
        e->type = ValueType::kVector;
        e->text = name;
        size_t at = Peek().pos;
        if (!name.empty()) {
            if (!ValidMetricName(name)) {
                return Err(toks_[p_ - 1], fmt::format("invalid metric name \"{}\"", name));
            }
            e->matchers.push_back(*Matcher::Make(MatchOp::kEqual, std::string(kMetricName), name));
        }
        if (Peek().kind == Tok::kLBrace) {
            ++p_;
            while (Peek().kind != Tok::kRBrace) {
                const Token& ln = Next();
                if (ln.kind != Tok::kIdent || !ValidLabelName(ln.text)) {
                    return Err(
                        ln, fmt::format("expected a label name in a selector, got {}", Describe(ln))
                    );
                }
                const Token& op = Next();
                MatchOp mop;
                if (op.kind == Tok::kEq) {
                    mop = MatchOp::kEqual;
                } else if (op.kind == Tok::kOp && op.text == "!=") {
                    mop = MatchOp::kNotEqual;
                } else if (op.kind == Tok::kRe) {
                    mop = MatchOp::kRegex;
                } else if (op.kind == Tok::kNre) {
                    mop = MatchOp::kNotRegex;
                } else {
                    return Err(
                        op,
                        fmt::format(
                            "expected =, !=, =~ or !~ after label {}, got {}", ln.text, Describe(op)
                        )
                    );
                }
                const Token& v = Next();
                if (v.kind != Tok::kString) {
                    return Err(
                        v, fmt::format("expected a quoted label value, got {}", Describe(v))
                    );
                }
                if (ln.text == kMetricName && !name.empty()) {
                    return Err(
                        ln,
                        fmt::format(
                            "metric name must not be set twice: \"{}\" or \"{}\"", name, v.text
                        )
                    );
                }
                auto m = Matcher::Make(mop, ln.text, v.text);
                if (!m) {
                    return Err(v, m.error().message);
                }
                e->matchers.push_back(std::move(*m));
                if (Peek().kind == Tok::kComma) {
                    ++p_;
                } else if (Peek().kind != Tok::kRBrace) {
                    return Err(
                        Peek(),
                        fmt::format(
                            "expected \",\" or \"}}\" in a selector, got {}", Describe(Peek())
                        )
                    );
                }
            }
            ++p_;
        }
        bool non_empty = std::any_of(e->matchers.begin(), e->matchers.end(), [](const Matcher& m) {
            return !m.Matches("");
        });
        if (!non_empty) {
            return Fail(
                ErrorCode::kInvalidArgument,
                fmt::format(
                    "1:{}: parse error: vector selector must contain at least one non-empty "
                    "matcher",
                    at + 1
                )
            );
        }
        return e;
    }

    Result<ExprPtr> ParseAggregation(const std::string& op) {
        Token at = Next();
        if (!kSupportedAggregations.contains(op)) {
            return Err(at, fmt::format("aggregation \"{}\" is not in Hangar's PromQL subset", op));
        }
        auto e = std::make_unique<Expr>();
        e->kind = Expr::Kind::kAggregate;
        e->type = ValueType::kVector;
        e->text = op;
        auto grouping = [&]() -> Result<bool> {
            if (IsKeyword(Peek(), "by") || IsKeyword(Peek(), "without")) {
                e->without = IsKeyword(Next(), "without");
                auto l = ParseLabelList();
                if (!l) {
                    return Fail(l.error());
                }
                e->grouping = std::move(*l);
                return true;
            }
            return false;
        };
        auto before = grouping();
        if (!before) {
            return Fail(before.error());
        }
        if (auto r = Expect(Tok::kLParen, "\"(\""); !r) {
            return Fail(r.error());
        }
        bool needs_param = op == "topk" || op == "bottomk" || op == "quantile";
        if (needs_param) {
            auto p = ParseExpr(0);
            if (!p) {
                return p;
            }
            if ((*p)->type != ValueType::kScalar) {
                return Err(
                    at,
                    fmt::format(
                        "expected type scalar in aggregation parameter, got {}",
                        ValueTypeName((*p)->type)
                    )
                );
            }
            e->param = std::move(*p);
            if (auto r = Expect(Tok::kComma, "\",\""); !r) {
                return Fail(r.error());
            }
        }
        auto inner = ParseExpr(0);
        if (!inner) {
            return inner;
        }
        if ((*inner)->type != ValueType::kVector) {
            return Err(
                at,
                fmt::format(
                    "expected type instant vector in aggregation expression, got {}",
                    ValueTypeName((*inner)->type)
                )
            );
        }
        e->args.push_back(std::move(*inner));
        if (auto r = Expect(Tok::kRParen, "\")\""); !r) {
            return Fail(r.error());
        }
        if (!*before) {
            if (auto after = grouping(); !after) {
                return Fail(after.error());
            }
        }
        SetHeight(*e);
        return e;
    }

    Result<ExprPtr> ParseCall() {
        Token name = Next();
        const auto& fns = Functions();
        auto it = fns.find(name.text);
        if (it == fns.end()) {
            return Err(name, fmt::format("unknown function with name \"{}\"", name.text));
        }
        ++p_;  // (
        auto e = std::make_unique<Expr>();
        e->kind = Expr::Kind::kCall;
        e->text = name.text;
        e->type = it->second.ret;
        while (Peek().kind != Tok::kRParen) {
            auto a = ParseExpr(0);
            if (!a) {
                return a;
            }
            e->args.push_back(std::move(*a));
            if (Peek().kind == Tok::kComma) {
                ++p_;
            } else if (Peek().kind != Tok::kRParen) {
                return Err(
                    Peek(),
                    fmt::format(
                        "expected \",\" or \")\" in the arguments of {}, got {}",
                        name.text,
                        Describe(Peek())
                    )
                );
            }
        }
        ++p_;
        const FuncSig& sig = it->second;
        size_t max = sig.args.size(), min = sig.args.size() - static_cast<size_t>(sig.optional);
        if (e->args.size() < min || e->args.size() > max) {
            return Err(
                name,
                fmt::format(
                    "expected {} argument(s) in call to \"{}\", got {}",
                    min == max ? fmt::format("{}", max) : fmt::format("{} to {}", min, max),
                    name.text,
                    e->args.size()
                )
            );
        }
        for (size_t i = 0; i < e->args.size(); ++i) {
            if (e->args[i]->type != sig.args[i]) {
                return Err(
                    name,
                    fmt::format(
                        "expected type {} in call to function \"{}\", got {}",
                        ValueTypeName(sig.args[i]),
                        name.text,
                        ValueTypeName(e->args[i]->type)
                    )
                );
            }
        }
        SetHeight(*e);
        return e;
    }

    std::string_view q_;
    std::vector<Token> toks_;
    size_t p_ = 0;
    int depth_ = 0;
};

}  // namespace

Result<ExprPtr> Parse(std::string_view query) {
    if (query.size() > 64 * 1024) {
        return Fail(ErrorCode::kInvalidArgument, "query is longer than 64 KiB");
    }
    if (std::all_of(query.begin(), query.end(), [](char c) {
            return std::isspace(static_cast<unsigned char>(c));
        })) {
        return Fail(ErrorCode::kInvalidArgument, "query is empty");
    }
    Parser p(query);
    return p.Run();
}

std::string Expr::ToString() const {
    switch (kind) {
        case Kind::kNumber:
            return fmt::format("{}", number);
        case Kind::kString:
            return fmt::format("\"{}\"", EscapeLabelValue(text));
        case Kind::kVectorSelector:
        case Kind::kMatrixSelector: {
            std::string out = text + "{";
            bool first = true;
            for (const auto& m : matchers) {
                if (m.name() == kMetricName && !text.empty()) {
                    continue;
                }
                out += (first ? "" : ", ") + m.ToString();
                first = false;
            }
            out += "}";
            if (kind == Kind::kMatrixSelector) {
                out += "[" + FormatDuration(range_ms) + "]";
            }
            if (offset_ms != 0) {
                out += " offset " + FormatDuration(offset_ms);
            }
            return out;
        }
        case Kind::kParen:
            return "(" + args[0]->ToString() + ")";
        case Kind::kUnary:
            return "-" + args[0]->ToString();
        case Kind::kCall: {
            std::string out = text + "(";
            for (size_t i = 0; i < args.size(); ++i) {
                out += (i ? ", " : "") + args[i]->ToString();
            }
            return out + ")";
        }
        case Kind::kAggregate: {
            std::string out = text;
            if (!grouping.empty() || without) {
                out +=
                    fmt::format(" {} ({})", without ? "without" : "by", fmt::join(grouping, ", "));
            }
            out += "(";
            if (param) {
                out += param->ToString() + ", ";
            }
            return out + args[0]->ToString() + ")";
        }
        case Kind::kBinary: {
            std::string mod = return_bool ? " bool" : "";
            if (matching) {
                mod += fmt::format(
                    " {}({})", matching->on ? "on" : "ignoring", fmt::join(matching->labels, ", ")
                );
                if (matching->card != Card::kOneToOne) {
                    mod += fmt::format(
                        " {}({})",
                        matching->card == Card::kManyToOne ? "group_left" : "group_right",
                        fmt::join(matching->include, ", ")
                    );
                }
            }
            return args[0]->ToString() + " " + text + mod + " " + args[1]->ToString();
        }
    }
    return "";
}

}  // namespace hangar::metrics::promql
