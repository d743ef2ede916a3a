#include "hangar/billing/invoice_render.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hangar/core/json.hpp"
#include "hangar/core/strings.hpp"

namespace hangar::billing {

namespace json = boost::json;
namespace fs = std::filesystem;
using core::HtmlEscape;

namespace {

std::string Day(std::string_view rfc3339) {
    return std::string(rfc3339.substr(0, 10));
}

}  // namespace

std::string InvoiceHtml(const store::Object& inv, const std::string& customer) {
    const json::object& s = inv.spec;
    std::string currency = core::StrAt(s, "currency");
    std::string rows;
    if (const json::value* lines = s.if_contains("lines"); lines != nullptr && lines->is_array()) {
        for (const json::value& v : lines->as_array()) {
            if (!v.is_object()) {
                continue;
            }
            const json::object& l = v.as_object();
            std::string unit = l.contains("unit_price") && l.at("unit_price").is_string()
                                   ? core::StrAt(l, "unit_price")
                                   : "";
            rows += fmt::format(
                "<tr class=\"{}\"><td>{}<div class=\"detail\">{}</div></td><td>{} – {}</td>"
                "<td class=\"num\">{}</td><td class=\"num\">{}</td><td "
                "class=\"num\">{}</td></tr>\n",
                HtmlEscape(core::StrAt(l, "type")),
                HtmlEscape(core::StrAt(l, "description")),
                HtmlEscape(core::StrAt(l, "detail")),
                HtmlEscape(Day(core::StrAt(l, "period_start"))),
                HtmlEscape(Day(core::StrAt(l, "period_end"))),
                HtmlEscape(core::StrAt(l, "quantity")),
                HtmlEscape(unit),
                HtmlEscape(core::StrAt(l, "amount"))
            );
        }
    }
    std::string sla;
    if (const json::object* o = core::ObjectAt(s, "sla")) {
        std::string incidents;
        if (const json::value* ids = o->if_contains("incidents");
            ids != nullptr && ids->is_array()) {
            for (const json::value& id : ids->as_array()) {
                if (id.is_string()) {
                    incidents += (incidents.empty() ? "" : ", ") + HtmlEscape(id.as_string());
                }
            }
        }
        sla = fmt::format(
            "<p class=\"sla\">SLA credit of {}% for {}, from the <a href=\"{}\">SLA "
            "report</a>{}.</p>",
            HtmlEscape(core::StrAt(*o, "credit_percent")),
            HtmlEscape(core::StrAt(*o, "month")),
            HtmlEscape(core::StrAt(*o, "report")),
            incidents.empty() ? "" : "; incidents " + incidents
        );
    }
    const json::object* tax = core::ObjectAt(s, "tax");
    std::string tax_row =
        tax == nullptr ? ""
                       : fmt::format(
                             "<tr><th colspan=\"4\">{} ({}%{})</th><td class=\"num\">{}</td></tr>",
                             HtmlEscape(core::StrAt(*tax, "name")),
                             HtmlEscape(core::StrAt(*tax, "rate_percent")),
                             core::StrAt(*tax, "country").empty()
                                 ? ""
                                 : ", " + HtmlEscape(core::StrAt(*tax, "country")),
                             HtmlEscape(core::StrAt(*tax, "amount"))
                         );
    return fmt::format(
        R"(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Invoice {0}</title>
<style>
@page {{ size: A4; margin: 18mm; }}
body {{ font: 11pt/1.4 sans-serif; color: #111; }}
h1 {{ font-size: 18pt; margin: 0 0 4mm; }}
table {{ width: 100%; border-collapse: collapse; margin-top: 6mm; }}
td, th {{ padding: 2mm; border-bottom: 1px solid #ccc; text-align: left; vertical-align: top; }}
.num {{ text-align: right; white-space: nowrap; }}
.detail {{ color: #555; font-size: 9pt; }}
tr.credit td {{ color: #05631f; }}
.total th, .total td {{ font-weight: bold; border-top: 2px solid #111; }}
.meta td {{ border: none; padding: 0 4mm 0 0; }}
</style></head><body>
<h1>Invoice {0}</h1>
<table class="meta">
<tr><td>Customer</td><td>{1}</td></tr>
<tr><td>Period</td><td>{2} – {3}</td></tr>
<tr><td>State</td><td id="state">{4}</td></tr>
<tr><td>Issued</td><td>{5}</td></tr>
<tr><td>Due</td><td>{6}</td></tr>
</table>
<table>
<thead><tr><th>Item</th><th>Period</th><th class="num">Quantity</th><th class="num">Unit price</th><th class="num">Amount ({7})</th></tr></thead>
<tbody>
{8}</tbody>
<tfoot>
<tr><th colspan="4">Subtotal</th><td class="num">{9}</td></tr>
<tr><th colspan="4">Credits</th><td class="num">-{10}</td></tr>
{11}
<tr class="total"><th colspan="4">Total</th><td class="num" id="total">{12} {7}</td></tr>
</tfoot>
</table>
{13}
</body></html>
)",
        HtmlEscape(core::StrAt(s, "number")),
        HtmlEscape(customer),
        HtmlEscape(Day(core::StrAt(s, "period_start"))),
        HtmlEscape(Day(core::StrAt(s, "period_end"))),
        HtmlEscape(core::StrAt(inv.status, "state")),
        HtmlEscape(Day(core::StrAt(inv.status, "issued_at"))),
        HtmlEscape(Day(core::StrAt(inv.status, "due_at"))),
        HtmlEscape(currency),
        rows,
        HtmlEscape(core::StrAt(s, "subtotal")),
        HtmlEscape(core::StrAt(s, "credits")),
        tax_row,
        HtmlEscape(core::StrAt(s, "total")),
        sla
    );
}

core::Result<std::string> PdfRenderer::Render(const std::string& html) {
    auto unavailable = [](std::string m) {
        return core::Fail(core::MakeError(core::ErrorCode::kUnavailable, std::move(m)));
    };
    if (::access(chromium_.c_str(), X_OK) != 0) {
        return unavailable(fmt::format("PDF rendering needs chromium at {}", chromium_));
    }
    std::lock_guard lock(mu_);
    std::error_code ec;
    fs::path dir = fs::temp_directory_path(ec) / fmt::format("hangar-pdf-{}", ::getpid());
    fs::remove_all(dir, ec);
    fs::create_directories(dir / "profile", ec);
    if (ec) {
        return unavailable("cannot make a temporary folder for chromium: " + ec.message());
    }
    fs::path in = dir / "invoice.html", out = dir / "invoice.pdf";
    {
        std::ofstream f(in, std::ios::binary);
        f << html;
    }
    std::vector<std::string> args = {
        chromium_,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-extensions",
        "--no-first-run",
        "--disable-dev-shm-usage",
        "--user-data-dir=" + (dir / "profile").string(),
        "--no-pdf-header-footer",
        "--print-to-pdf=" + out.string(),
        "file://" + in.string()};
    std::vector<char*> argv;
    for (auto& a : args) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    pid_t pid = ::fork();
    if (pid < 0) {
        ::close(devnull);
        return unavailable("fork failed");
    }
    if (pid == 0) {
        ::setpgid(0, 0);
        ::dup2(devnull, 0);
        ::dup2(devnull, 1);
        ::dup2(devnull, 2);
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }
    ::close(devnull);
    auto deadline = std::chrono::steady_clock::now() + timeout_;
    int status = 0;
    bool done = false;
    while (std::chrono::steady_clock::now() < deadline) {
        pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid || r < 0) {
            done = true;
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ::kill(-pid, SIGKILL);  // chromium's helpers too
    if (!done) {
        ::waitpid(pid, &status, 0);
    }
    std::string pdf;
    {
        std::ifstream f(out, std::ios::binary);
        std::stringstream ss;
        ss << f.rdbuf();
        pdf = ss.str();
    }
    fs::remove_all(dir, ec);
    if (!done) {
        return unavailable(fmt::format("chromium took longer than {}s to print", timeout_.count()));
    }
    if (!pdf.starts_with("%PDF-")) {
        return unavailable("chromium did not print a PDF");
    }
    return pdf;
}

}  // namespace hangar::billing
