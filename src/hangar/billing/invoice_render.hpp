#pragma once
// An invoice as a customer reads it: an HTML page that prints on A4 (lines, credits, tax, total,
// the SLA report it credits), and that page as a PDF from headless chromium's print-to-PDF,
// bounded in time and run one at a time.

#include <chrono>
#include <mutex>
#include <string>

#include "hangar/core/error.hpp"
#include "hangar/store/types.hpp"

namespace hangar::billing {

std::string InvoiceHtml(const store::Object& invoice, const std::string& customer);

class PdfRenderer {
public:
    explicit PdfRenderer(
        std::string chromium = "/usr/bin/chromium",
        std::chrono::seconds timeout = std::chrono::seconds(30)
    )
        : chromium_(std::move(chromium)), timeout_(timeout) {}
    // The PDF bytes; kUnavailable when chromium is missing, fails or takes too long.
    core::Result<std::string> Render(const std::string& html);

private:
    std::string chromium_;
    std::chrono::seconds timeout_;
    std::mutex mu_;  // one chromium at a time: each takes a few hundred MB
};

}  // namespace hangar::billing
