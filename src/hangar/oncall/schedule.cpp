#include "hangar/oncall/schedule.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <initializer_list>

#include <fmt/format.h>

#include <boost/json.hpp>

#include "hangar/core/json.hpp"
#include "hangar/core/time_zone.hpp"

namespace hangar::oncall {

namespace json = boost::json;
using core::Fail;
using core::ObjectReader;

namespace {

constexpr std::string_view kDays[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
constexpr size_t kMaxLayers = 10, kMaxUsers = 100, kMaxOverrides = 500, kMaxRestrictions = 14;

// Digits only: from_chars would read a sign ("-1:00", "00:-5").
bool AllDigitsAt(std::string_view s, std::initializer_list<size_t> at) {
    return std::all_of(at.begin(), at.end(), [&](size_t i) {
        return i < s.size() && s[i] >= '0' && s[i] <= '9';
    });
}

std::optional<int> ParseClock(std::string_view s) {  // "HH:MM", 00:00..24:00
    int h = 0, m = 0;
    if (s.size() != 5 || !AllDigitsAt(s, {0, 1, 3, 4}) || s[2] != ':' ||
        std::from_chars(s.data(), s.data() + 2, h).ptr != s.data() + 2 ||
        std::from_chars(s.data() + 3, s.data() + 5, m).ptr != s.data() + 5 || h > 24 || m > 59 ||
        (h == 24 && m != 0)) {
        return std::nullopt;
    }
    return h * 60 + m;
}

std::optional<cctz::civil_second> ParseCivil(std::string_view s) {  // "YYYY-MM-DDTHH:MM"
    int y = 0, mo = 0, d = 0, h = 0, mi = 0;
    auto num = [&](size_t at, size_t len, int& out) {
        return at + len <= s.size() &&
               std::from_chars(s.data() + at, s.data() + at + len, out).ptr == s.data() + at + len;
    };
    if (s.size() != 16 || !AllDigitsAt(s, {0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15}) ||
        s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || !num(0, 4, y) ||
        !num(5, 2, mo) || !num(8, 2, d) || !num(11, 2, h) || !num(14, 2, mi)) {
        return std::nullopt;
    }
    if (y < 1900 || y > 2200) {
        return std::nullopt;  // beyond the nanosecond clock's years (1677 to 2262) it overflows
    }
    cctz::civil_second cs(y, mo, d, h, mi, 0);
    if (cs.year() != y || cs.month() != mo || cs.day() != d || cs.hour() != h ||
        cs.minute() != mi) {
        return std::nullopt;  // 2026-02-30 normalises to March: refuse it
    }
    return cs;
}

std::string FormatCivil(const cctz::civil_second& cs) {
    return fmt::format(
        "{:04}-{:02}-{:02}T{:02}:{:02}", cs.year(), cs.month(), cs.day(), cs.hour(), cs.minute()
    );
}

bool MinuteAligned(core::TimePoint t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count() %
               60000 ==
           0;
}

int Weekday(const cctz::civil_day& d) {
    switch (cctz::get_weekday(d)) {
        case cctz::weekday::monday:
            return 0;
        case cctz::weekday::tuesday:
            return 1;
        case cctz::weekday::wednesday:
            return 2;
        case cctz::weekday::thursday:
            return 3;
        case cctz::weekday::friday:
            return 4;
        case cctz::weekday::saturday:
            return 5;
        case cctz::weekday::sunday:
            return 6;
    }
    return 0;
}

bool InRestriction(const Restriction& r, const cctz::civil_second& local) {
    int minute = local.hour() * 60 + local.minute();
    auto day_ok = [&](int wd) {
        return r.weekdays.empty() ||
               std::find(r.weekdays.begin(), r.weekdays.end(), wd) != r.weekdays.end();
    };
    int today = Weekday(cctz::civil_day(local));
    if (r.start_minute < r.end_minute) {
        return day_ok(today) && minute >= r.start_minute && minute < r.end_minute;
    }
    // Past midnight (22:00-06:00): the evening part belongs to the day it starts on.
    return (day_ok(today) && minute >= r.start_minute) ||
           (day_ok((today + 6) % 7) && minute < r.end_minute);
}

std::optional<std::string> LayerUserAt(const Layer& l, core::TimePoint t) {
    cctz::civil_second local = cctz::convert(std::chrono::time_point_cast<cctz::seconds>(t), l.tz);
    int64_t elapsed = local - l.start;
    if (elapsed < 0 || l.users.empty()) {
        return std::nullopt;
    }
    if (!l.restrictions.empty() &&
        std::none_of(l.restrictions.begin(), l.restrictions.end(), [&](const Restriction& r) {
            return InRestriction(r, local);
        })) {
        return std::nullopt;
    }
    return l.users[static_cast<size_t>(elapsed / l.rotation_seconds) % l.users.size()];
}

void ReadLayer(
    ObjectReader& top,
    const json::value& v,
    size_t i,
    const std::string& default_tz,
    json::array& out
) {
    std::string path = fmt::format("spec.layers[{}]", i);
    if (!v.is_object()) {
        top.SetError(path, "must be an object");
        return;
    }
    ObjectReader r(v.as_object(), path);
    json::object layer;
    layer["name"] = r.String("name").value_or(fmt::format("layer-{}", i + 1));
    const json::array* users = r.Array("users", true);
    json::array names;
    if (users != nullptr) {
        if (users->empty() || users->size() > kMaxUsers) {
            r.SetError(path + ".users", fmt::format("must list 1 to {} user names", kMaxUsers));
        }
        for (const auto& u : *users) {
            if (!u.is_string() || u.as_string().empty() || u.as_string().size() > 63) {
                r.SetError(path + ".users", "must be user names (strings of 1 to 63 characters)");
                break;
            }
            names.push_back(u);
        }
    }
    layer["users"] = std::move(names);
    if (auto start = r.String("start", true)) {
        if (auto cs = ParseCivil(*start)) {
            layer["start"] = FormatCivil(*cs);
        } else {
            r.SetError(
                path + ".start",
                "must be the first hand-off as local time YYYY-MM-DDTHH:MM, such as "
                "2026-11-02T09:00"
            );
        }
    }
    std::string rotation = r.String("rotation").value_or("7d");
    auto len = core::ParseDuration(rotation);
    if (!len || len->count() < 3600 || len->count() % 3600 != 0 || len->count() > 366LL * 86400) {
        r.SetError(
            path + ".rotation",
            "must be whole hours or days between 1h and 366d, such as 12h, 1d or 7d"
        );
    }
    layer["rotation"] = rotation;
    std::string tz = r.String("time_zone").value_or(default_tz);
    cctz::time_zone zone;
    if (!core::LoadTimeZone(tz, &zone)) {
        r.SetError(
            path + ".time_zone",
            fmt::format(
                "\"{}\" is not a known time zone (use an IANA name such as Europe/Berlin)", tz
            )
        );
    }
    layer["time_zone"] = tz;
    json::array restrictions;
    if (const json::array* rs = r.Array("restrictions")) {
        if (rs->size() > kMaxRestrictions) {
            r.SetError(path + ".restrictions", fmt::format("at most {}", kMaxRestrictions));
        }
        for (size_t j = 0; j < rs->size() && r.ok(); ++j) {
            std::string rpath = fmt::format("{}.restrictions[{}]", path, j);
            if (!(*rs)[j].is_object()) {
                r.SetError(rpath, "must be an object with days, start and end");
                break;
            }
            ObjectReader rr((*rs)[j].as_object(), rpath);
            json::object one;
            json::array days;
            if (const json::array* ds = rr.Array("days")) {
                for (const auto& d : *ds) {
                    if (!d.is_string() ||
                        std::find(
                            std::begin(kDays), std::end(kDays), std::string_view(d.as_string())
                        ) == std::end(kDays)) {
                        rr.SetError(
                            rpath + ".days", "must be days among mon, tue, wed, thu, fri, sat, sun"
                        );
                        break;
                    }
                    days.push_back(d);
                }
            }
            one["days"] = std::move(days);
            for (const char* key : {"start", "end"}) {
                auto t = rr.String(key, true);
                if (t && !ParseClock(*t)) {
                    rr.SetError(rpath + "." + key, "must be a local time HH:MM (00:00 to 24:00)");
                }
                one[key] = t.value_or("");
            }
            if (rr.ok() &&
                ParseClock(one["start"].as_string()) == ParseClock(one["end"].as_string())) {
                rr.SetError(rpath, "start and end are the same: the window would be empty");
            }
            r.Absorb(rr.Finish());
            restrictions.push_back(std::move(one));
        }
    }
    layer["restrictions"] = std::move(restrictions);
    top.Absorb(r.Finish());
    out.push_back(std::move(layer));
}

}  // namespace

core::Result<json::object> ValidateScheduleSpec(const json::object& spec) {
    ObjectReader r(spec, "spec");
    json::object out;
    std::string tz = r.String("time_zone").value_or("UTC");
    cctz::time_zone zone;
    if (!core::LoadTimeZone(tz, &zone)) {
        r.SetError(
            "spec.time_zone",
            fmt::format(
                "\"{}\" is not a known time zone (use an IANA name such as Europe/Berlin)", tz
            )
        );
    }
    out["time_zone"] = tz;
    if (auto d = r.String("description")) {
        out["description"] = *d;
    }
    json::array layers;
    if (const json::array* ls = r.Array("layers", true)) {
        if (ls->empty() || ls->size() > kMaxLayers) {
            r.SetError("spec.layers", fmt::format("must hold 1 to {} layers", kMaxLayers));
        }
        for (size_t i = 0; i < ls->size() && i < kMaxLayers && r.ok(); ++i) {
            ReadLayer(r, (*ls)[i], i, tz, layers);
        }
    }
    out["layers"] = std::move(layers);
    json::array overrides;
    if (const json::array* os = r.Array("overrides")) {
        if (os->size() > kMaxOverrides) {
            r.SetError(
                "spec.overrides",
                fmt::format("at most {} overrides; remove past ones", kMaxOverrides)
            );
        }
        for (size_t i = 0; i < os->size() && r.ok(); ++i) {
            std::string path = fmt::format("spec.overrides[{}]", i);
            if (!(*os)[i].is_object()) {
                r.SetError(path, "must be an object with user, start and end");
                break;
            }
            ObjectReader o((*os)[i].as_object(), path);
            auto user = o.String("user", true);
            auto start = o.String("start", true);
            auto end = o.String("end", true);
            std::optional<core::TimePoint> a, b;
            if (start && (!(a = core::ParseRfc3339(*start)) || !MinuteAligned(*a))) {
                o.SetError(
                    path + ".start",
                    "must be an RFC 3339 time on a whole minute, such as 2026-11-28T18:00:00Z"
                );
            }
            if (end && (!(b = core::ParseRfc3339(*end)) || !MinuteAligned(*b))) {
                o.SetError(
                    path + ".end",
                    "must be an RFC 3339 time on a whole minute, such as 2026-11-29T09:00:00Z"
                );
            }
            if (a && b && *b <= *a) {
                o.SetError(path + ".end", "must be after start");
            }
            if (auto f = o.Finish(); !f) {
                r.Absorb(f);
                break;
            }
            overrides.push_back(json::object{
                {"user", *user},
                {"start", core::FormatRfc3339(*a)},
                {"end", core::FormatRfc3339(*b)}});
        }
    }
    out["overrides"] = std::move(overrides);
    if (auto f = r.Finish(); !f) {
        return Fail(f.error());
    }
    return out;
}

core::Result<Schedule> ScheduleFromSpec(const json::object& spec) {
    Schedule s;
    for (const auto& lv : spec.at("layers").as_array()) {
        const json::object& l = lv.as_object();
        Layer layer;
        layer.name = core::StrAt(l, "name");
        for (const auto& u : l.at("users").as_array()) {
            layer.users.emplace_back(u.as_string());
        }
        layer.start = *ParseCivil(core::StrAt(l, "start"));
        layer.rotation_seconds = core::ParseDuration(core::StrAt(l, "rotation"))->count();
        layer.tz_name = core::StrAt(l, "time_zone");
        if (!core::LoadTimeZone(layer.tz_name, &layer.tz)) {
            return Fail(
                core::ErrorCode::kInternal,
                fmt::format("time zone {} is no longer known", layer.tz_name)
            );
        }
        for (const auto& rv : l.at("restrictions").as_array()) {
            const json::object& r = rv.as_object();
            Restriction res;
            for (const auto& d : r.at("days").as_array()) {
                res.weekdays.push_back(static_cast<int>(
                    std::find(std::begin(kDays), std::end(kDays), std::string_view(d.as_string())) -
                    std::begin(kDays)
                ));
            }
            res.start_minute = *ParseClock(core::StrAt(r, "start"));
            res.end_minute = *ParseClock(core::StrAt(r, "end"));
            layer.restrictions.push_back(std::move(res));
        }
        s.layers.push_back(std::move(layer));
    }
    if (const auto* os = spec.if_contains("overrides")) {
        for (const auto& ov : os->as_array()) {
            const json::object& o = ov.as_object();
            s.overrides.push_back(
                {core::StrAt(o, "user"),
                 *core::ParseRfc3339(core::StrAt(o, "start")),
                 *core::ParseRfc3339(core::StrAt(o, "end"))}
            );
        }
    }
    return s;
}

OnCall WhoAt(const Schedule& s, core::TimePoint t) {
    for (auto it = s.overrides.rbegin(); it != s.overrides.rend(); ++it) {
        if (t >= it->start && t < it->end) {
            return {it->user, "override"};
        }
    }
    for (auto it = s.layers.rbegin(); it != s.layers.rend(); ++it) {
        if (auto u = LayerUserAt(*it, t)) {
            return {*u, it->name};
        }
    }
    return {};
}

std::vector<Shift>
Shifts(const Schedule& s, core::TimePoint from, core::TimePoint to, size_t limit) {
    std::vector<Shift> out;
    using std::chrono::minutes;
    core::TimePoint t = std::chrono::floor<minutes>(from);
    OnCall cur = WhoAt(s, t);
    core::TimePoint start = t;
    for (t += minutes(1); t < to; t += minutes(1)) {
        OnCall who = WhoAt(s, t);
        if (who != cur) {
            out.push_back({cur, start, t});
            if (out.size() >= limit) {
                return out;
            }
            cur = who;
            start = t;
        }
    }
    out.push_back({cur, start, std::max(to, start + minutes(1))});
    return out;
}

namespace {

std::string ICalTime(core::TimePoint t) {
    std::string r = core::FormatRfc3339(t);  // 2026-11-23T08:00:00.000Z
    std::string out;
    for (char c : r.substr(0, 19)) {
        if (c != '-' && c != ':') {
            out += c;
        }
    }
    return out + "Z";
}

std::string ICalText(std::string_view s) {  // RFC 5545 3.3.11 escapes
    std::string out;
    for (char c : s) {
        if (c == '\\' || c == ';' || c == ',') {
            out += '\\';
            out += c;
        } else if (c == '\n') {
            out += "\\n";
        } else if (static_cast<unsigned char>(c) >= 0x20) {
            out += c;
        }
    }
    return out;
}

}  // namespace

std::string
ICalendar(const Schedule& s, std::string_view name, core::TimePoint from, core::TimePoint to) {
    std::string out =
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Hangar//On-call//EN\r\nCALSCALE:GREGORIAN\r\n";
    out += "X-WR-CALNAME:" + ICalText(fmt::format("On call: {}", name)) + "\r\n";
    std::string stamp =
        ICalTime(std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()));
    for (const Shift& sh : Shifts(s, from, to)) {
        if (sh.who.user.empty()) {
            continue;
        }
        out += "BEGIN:VEVENT\r\n";
        out += fmt::format("UID:{}-{}@hangar\r\n", ICalText(std::string(name)), ICalTime(sh.start));
        out += "DTSTAMP:" + stamp + "\r\n";
        out += "DTSTART:" + ICalTime(sh.start) + "\r\nDTEND:" + ICalTime(sh.end) + "\r\n";
        out += "SUMMARY:" + ICalText(fmt::format("On call: {} ({})", sh.who.user, sh.who.layer)) +
               "\r\n";
        out += "END:VEVENT\r\n";
    }
    out += "END:VCALENDAR\r\n";
    return out;
}

}  // namespace hangar::oncall
