// Subscriptions, invoices and payments on the real `hangar serve`, collected through a local
// fake of Stripe's API (tests/billing/fake_stripe.mjs, webhooks signed by the `stripe` package):
// a past month is invoiced with its usage, SLA credit and tax and charged; a declined card
// makes the subscription past due, suspends the tenant's instances after the grace and a
// payment resumes them; a plan change with its preview; approval; margins; bad input.

#include <csignal>
#include <fstream>
#include <thread>

#include <fmt/format.h>
#include <sys/wait.h>

#include "hangar/billing/stripe.hpp"
#include "hangar/core/clock.hpp"
#include "hangar/core/json.hpp"
#include "hangar/metrics/remote_write.hpp"

#include "fake_receivers.hpp"
#include "fixture.hpp"

namespace hangar::testing {
namespace {

constexpr int64_t kOct = 1'790'812'800'000;  // 2026-10-01T00:00:00Z
constexpr int64_t kMin = 60'000;
constexpr const char* kKey = "sk_test_hangar";
constexpr const char* kWebhookSecret = "whsec_hangar_test";

std::string ReadFile(const std::string& path) {
    std::ifstream f(path);
    return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

// Polls `done` every 100 ms for at most `seconds`.
bool Eventually(const std::function<bool()>& done, int seconds = 30) {
    for (int i = 0; i < seconds * 10; ++i) {
        if (done()) {
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return done();
}

class FakeStripe {
public:
    FakeStripe() {
        pid_ = SpawnLogged(
            {"/usr/bin/node",
             std::string(HANGAR_SOURCE_DIR) + "/tests/billing/fake_stripe.mjs",
             dir_.path() + "/port",
             kKey,
             kWebhookSecret},
            dir_.path() + "/log"
        );
        Eventually([&] { return !ReadFile(dir_.path() + "/port").empty(); }, 20);
        std::string p = ReadFile(dir_.path() + "/port");
        port_ = p.empty() ? 0 : std::stoi(p);
    }
    ~FakeStripe() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
    }
    int port() const { return port_; }
    std::string Url() const { return "http://127.0.0.1:" + std::to_string(port_); }
    std::string Log() const { return ReadFile(dir_.path() + "/log"); }
    Client Control() const { return Client("127.0.0.1", port_); }

private:
    TempDir dir_;
    pid_t pid_ = -1;
    int port_ = 0;
};

class BillingTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        stripe_ = new FakeStripe();
        smtp_ = new SmtpServer();
        s_ = new LiveServer(
            {"--provisioner",
             "simulated",
             "--metrics-retention",
             "400d",
             "--billing-interval",
             "1s",
             "--payment-grace",
             "3s",
             "--stripe-api-url",
             stripe_->Url(),
             "--stripe-secret-key",
             kKey,
             "--stripe-webhook-secret",
             kWebhookSecret,
             "--smtp-url",
             smtp_->Url()}
        );
        ok_ = stripe_->port() > 0 && s_->Start();
        if (!ok_) {
            return;
        }
        stripe_->Control().Do(
            "POST",
            "/_fake/webhook-target",
            json::serialize(json::object{{"url", s_->Url() + "/v1/billing/stripe/webhook"}})
        );
        auto admin = s_->Admin();
        for (const char* body : {
                 R"({"metadata":{"name":"gold"},"spec":{"memory_mb":64,"cpu_millis":100,)"
                 R"("sla":{"target_percent":99.9,"credits":[{"below_percent":99.9,"credit_percent":10},{"below_percent":99,"credit_percent":25}]}}})",
                 R"({"metadata":{"name":"platinum"},"spec":{"memory_mb":128,"cpu_millis":200}})",
             }) {
            admin.Do("POST", "/v1/plans", body);
        }
        admin.Do(
            "POST",
            "/v1/products",
            R"({"metadata":{"name":"app"},"spec":{"versions":[{"version":"1","run":{"simulated":{}}}]}})"
        );
        admin.Do(
            "POST",
            "/v1/planprices",
            R"({"metadata":{"name":"gold"},"spec":{"plan":"gold","currency":"EUR","charges":[)"
            R"({"model":"flat","amount":"100","description":"Gold plan"},)"
            R"({"model":"per_unit","meter":"instance_hours","amount":"0.05"},)"
            R"({"model":"per_unit","meter":"push_notifications","amount":"0.001"}]}})"
        );
        admin.Do(
            "POST",
            "/v1/planprices",
            R"({"metadata":{"name":"platinum"},"spec":{"plan":"platinum","currency":"EUR","charges":[)"
            R"({"model":"flat","amount":"300"}]}})"
        );
        admin.Do(
            "POST",
            "/v1/taxrates",
            R"({"metadata":{"name":"de"},"spec":{"country":"DE","percent":"19","name":"USt"}})"
        );
    }
    static void TearDownTestSuite() {
        delete s_;
        delete smtp_;
        delete stripe_;
        s_ = nullptr;
    }
    void SetUp() override { ASSERT_TRUE(ok_) << (s_ ? s_->process().Log() : "") << stripe_->Log(); }

    // A tenant in Germany with a contact address; its id.
    static std::string GermanTenant(const std::string& name) {
        auto r = s_->Admin().Do(
            "POST",
            "/v1/tenants",
            json::serialize(json::object{
                {"metadata", {{"name", name}}},
                {"spec",
                 {{"display_name", name + " GmbH"},
                  {"country", "DE"},
                  {"contact_email", name + "@example.com"}}}})
        );
        EXPECT_EQ(r.status, 201) << r.body;
        return r.status == 201 ? Str(r.Json(), {"metadata", "id"}) : "";
    }
    static std::string Instance(const std::string& tenant, const std::string& name) {
        auto r = s_->Admin().Do(
            "POST",
            "/v1/instances",
            json::serialize(json::object{
                {"metadata", {{"name", name}, {"tenant", tenant}}},
                {"spec", {{"product", "app"}, {"plan", "gold"}}}})
        );
        EXPECT_EQ(r.status, 201) << r.body;
        return r.status == 201 ? Str(r.Json(), {"metadata", "id"}) : "";
    }
    static json::array Invoices(const std::string& tenant) {
        auto r = s_->Admin().Do("GET", "/v1/invoices?tenant=" + tenant);
        EXPECT_EQ(r.status, 200) << r.body;
        json::array items = r.Json().at("items").as_array();
        std::sort(items.begin(), items.end(), [](const json::value& a, const json::value& b) {
            return Str(a, {"spec", "period_start"}) < Str(b, {"spec", "period_start"});
        });
        return items;
    }
    static std::string Subscribe(const std::string& tenant, const std::string& extra) {
        auto r = s_->Admin().Do(
            "POST",
            "/v1/subscriptions",
            fmt::format(R"({{"tenant":"{}","plan":"gold"{}}})", tenant, extra)
        );
        EXPECT_EQ(r.status, 201) << r.body;
        return r.status == 201 ? Str(r.Json(), {"metadata", "id"}) : "";
    }

    static inline LiveServer* s_ = nullptr;
    static inline FakeStripe* stripe_ = nullptr;
    static inline SmtpServer* smtp_ = nullptr;
    static inline bool ok_ = false;
};

const json::object* LineOf(const json::value& inv, std::string_view description) {
    for (const auto& l : inv.at("spec").at("lines").as_array()) {
        if (Str(l, {"description"}).starts_with(description)) {
            return &l.as_object();
        }
    }
    return nullptr;
}

TEST_F(BillingTest, APastMonthIsInvoicedWithUsageSlaCreditAndTaxAndStripeChargesIt) {
    std::string t = GermanTenant("bill-acme");
    std::string ins = Instance(t, "shop");
    auto admin = s_->Admin();
    // October's usage: the instance ran all month (744 h, 74.4 CPU-hours) and a burst of 1500
    // push notifications.
    json::array batch;
    batch.push_back(json::object{
        {"specversion", "1.0"},
        {"id", "oct-hours"},
        {"source", "test"},
        {"type", "hangar.instance.usage"},
        {"subject", t},
        {"time", "2026-10-15T12:00:00Z"},
        {"data", {{"hours", 744}, {"cpu_hours", 74.4}, {"plan", "gold"}, {"product", "app"}}}});
    for (int i = 0; i < 1500; ++i) {
        batch.push_back(json::object{
            {"specversion", "1.0"},
            {"id", fmt::format("push-{}", i)},
            {"source", "test"},
            {"type", "hangar.push.sent"},
            {"subject", t},
            {"time", "2026-10-20T09:00:00Z"},
            {"data", {{"service", "apn"}}}});
    }
    auto ev = admin.Do(
        "POST",
        "/api/v1/events",
        json::serialize(batch),
        {{"Content-Type", "application/cloudevents-batch+json"}}
    );
    ASSERT_EQ(ev.status, 204) << ev.body;
    // October's probes: down 120 minutes on the 10th → 99.731 % < 99.9 %: a 10 % credit.
    std::vector<metrics::SeriesData> probes(1);
    probes[0].labels = {
        {"__name__", "up"},
        {"instance", ins},
        {"instance_name", "shop"},
        {"job", "hangar-probe"},
        {"product", "app"},
        {"tenant", t}};
    int64_t outage = kOct + (9 * 1440 + 12 * 60) * kMin;
    for (int64_t ts = kOct; ts < kOct + 31 * 1440 * kMin; ts += 2 * kMin) {
        probes[0].samples.push_back({ts, ts >= outage && ts < outage + 120 * kMin ? 0.0 : 1.0});
        if (probes[0].samples.size() == 2000 || ts + 2 * kMin >= kOct + 31 * 1440 * kMin) {
            auto w = admin.Do(
                "POST",
                "/api/v1/write",
                metrics::EncodeWriteRequest(probes),
                {{"Content-Type", "application/x-protobuf"},
                 {"Content-Encoding", "snappy"},
                 {"X-Scope-OrgID", t}}
            );
            ASSERT_EQ(w.status, 204) << w.body;
            probes[0].samples.clear();
        }
    }
    std::string sub =
        Subscribe(t, R"(,"starts_at":"2026-10-01T00:00:00Z","payment_method":"pm_card_visa")");
    ASSERT_FALSE(sub.empty());
    // The billing pass closes October and November and issues both.
    ASSERT_TRUE(Eventually([&] {
        auto inv = Invoices(t);
        return inv.size() == 2 && Str(inv[0], {"status", "state"}) == "paid" &&
               Str(inv[1], {"status", "state"}) == "paid";
    })) << json::serialize(Invoices(t));
    json::array inv = Invoices(t);
    const json::value& oct = inv[0];
    EXPECT_EQ(Str(oct, {"spec", "period_start"}), "2026-10-01T00:00:00.000Z");
    EXPECT_EQ(Str(oct, {"spec", "period_end"}), "2026-11-01T00:00:00.000Z");
    const json::object* flat = LineOf(oct, "Gold plan");
    const json::object* hours = LineOf(oct, "instance_hours");
    const json::object* push = LineOf(oct, "push_notifications");
    const json::object* credit = LineOf(oct, "SLA credit");
    ASSERT_TRUE(flat && hours && push && credit) << json::serialize(oct);
    EXPECT_EQ(core::StrAt(*flat, "amount"), "100.00");
    EXPECT_EQ(core::StrAt(*hours, "quantity"), "744");
    EXPECT_EQ(core::StrAt(*hours, "amount"), "37.20");  // 744 × 0.05
    EXPECT_EQ(core::StrAt(*push, "quantity"), "1500");
    EXPECT_EQ(core::StrAt(*push, "amount"), "1.50");  // 1500 × 0.001
    EXPECT_EQ(Str(oct, {"spec", "subtotal"}), "138.70");
    EXPECT_EQ(core::StrAt(*credit, "amount"), "-13.87");  // 10 % of 138.70
    EXPECT_EQ(core::StrAt(*credit, "sla_report"), "/v1/tenants/" + t + "/sla?month=2026-10");
    EXPECT_EQ(Str(oct, {"spec", "sla", "credit_percent"}), "10");
    EXPECT_EQ(
        oct.at("spec").at("sla").at("instances").as_array().at(0).at("instance").as_string(), ins
    );
    EXPECT_EQ(Str(oct, {"spec", "tax", "amount"}), "23.72");  // 19 % of 124.83
    EXPECT_EQ(Str(oct, {"spec", "tax", "name"}), "USt");
    EXPECT_EQ(Str(oct, {"spec", "total"}), "148.55");
    // November: the flat fee, no usage, no credit.
    EXPECT_EQ(Str(inv[1], {"spec", "subtotal"}), "100.00");
    EXPECT_EQ(Str(inv[1], {"spec", "total"}), "119.00");
    EXPECT_EQ(Str(inv[1], {"spec", "credits"}), "0.00");

    // Stripe saw both payments, in cents, with the invoice in their metadata: read back with
    // Stripe's own client.
    TempDir dir;
    pid_t pid = SpawnLogged(
        {"/usr/bin/node",
         std::string(HANGAR_SOURCE_DIR) + "/tests/billing/stripe_client.mjs",
         stripe_->Url(),
         kKey},
        dir.path() + "/log"
    );
    int status = 0;
    waitpid(pid, &status, 0);
    std::string said = ReadFile(dir.path() + "/log");
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << said;
    for (const auto& [i, cents] : {std::pair{0, "14855"}, std::pair{1, "11900"}}) {
        std::string id = Str(inv[i], {"metadata", "id"});
        EXPECT_NE(
            said.find(fmt::format(
                R"("amount":{},"currency":"eur","status":"succeeded","invoice":"{}")", cents, id
            )),
            std::string::npos
        ) << said;
        EXPECT_EQ(Str(inv[i], {"status", "payment", "provider"}), "stripe");
        EXPECT_EQ(Str(inv[i], {"status", "payment", "status"}), "succeeded");
    }
    EXPECT_NE(said.find("bill-acme@example.com"), std::string::npos) << "the customer's e-mail";
    // And Hangar accepted Stripe's signed webhooks for them.
    ASSERT_TRUE(Eventually([&] {
        json::value d = stripe_->Control().Do("GET", "/_fake/webhooks").Json();
        int ok = 0;
        for (const auto& x : d.at("data").as_array()) {
            ok +=
                Str(x, {"type"}) == "payment_intent.succeeded" && x.at("status").as_int64() == 200;
        }
        return ok >= 2;
    })) << stripe_->Control().Do("GET", "/_fake/webhooks").body;

    // The invoice to read and to print.
    std::string oct_id = Str(oct, {"metadata", "id"});
    auto html = admin.Do("GET", "/v1/invoices/" + oct_id + "/html");
    ASSERT_EQ(html.status, 200);
    EXPECT_NE(html.body.find("148.55 EUR"), std::string::npos) << html.body;
    EXPECT_NE(html.body.find("SLA credit of 10% for 2026-10"), std::string::npos);
    EXPECT_NE(html.body.find("bill-acme GmbH"), std::string::npos);
    auto pdf = admin.Do("GET", "/v1/invoices/" + oct_id + "/pdf");
    ASSERT_EQ(pdf.status, 200) << pdf.body;
    EXPECT_TRUE(pdf.body.starts_with("%PDF-"));
    EXPECT_GT(pdf.body.size(), 1000U);
    // The tenant's own owner reads its invoices; another tenant does not see them.
    std::string owner = s_->Token(t, "owner");
    EXPECT_EQ(s_->As(owner).Do("GET", "/v1/invoices/" + oct_id + "/html").status, 200);
    std::string stranger = s_->Token(GermanTenant("bill-stranger"), "owner");
    EXPECT_EQ(s_->As(stranger).Do("GET", "/v1/invoices/" + oct_id + "/html").status, 404);
    EXPECT_EQ(s_->As(stranger).Do("GET", "/v1/invoices/" + oct_id).status, 404);
    // A paid invoice is neither voided nor approved.
    EXPECT_EQ(admin.Do("POST", "/v1/invoices/" + oct_id + ":void", "").status, 409);
    EXPECT_EQ(admin.Do("POST", "/v1/invoices/" + oct_id + ":approve", "").status, 409);

    // The margin: October's revenue without tax (124.83) against the unit costs of its usage:
    // 74.4 CPU-hours × 0.50 + 1500 notifications × 0.0002 = 37.50.
    ASSERT_EQ(
        admin
            .Do("POST",
                "/v1/unitcosts",
                R"({"metadata":{"name":"cpu-hour"},"spec":{"resource":"cpu_hour","amount":"0.50","currency":"EUR"}})"
            )
            .status,
        201
    );
    ASSERT_EQ(
        admin
            .Do("POST",
                "/v1/unitcosts",
                R"({"metadata":{"name":"notification"},"spec":{"resource":"notification","amount":"0.0002","currency":"EUR"}})"
            )
            .status,
        201
    );
    auto margin = admin.Do("GET", "/v1/billing/margin?month=2026-10");
    ASSERT_EQ(margin.status, 200) << margin.body;
    json::object row;
    json::value margins = margin.Json();
    for (const auto& r : margins.at("tenants").as_array()) {
        if (Str(r, {"tenant"}) == t) {
            row = r.as_object();
        }
    }
    ASSERT_FALSE(row.empty()) << margin.body;
    EXPECT_EQ(core::StrAt(row, "revenue"), "124.83");
    EXPECT_EQ(core::StrAt(row, "cost"), "37.50");
    EXPECT_EQ(core::StrAt(row, "margin"), "87.33");
    EXPECT_EQ(core::StrAt(row, "margin_percent"), "70.0");
    // Least profitable first: a tenant with no revenue (margin 0) comes before this one.
    const auto& rows = margins.at("tenants").as_array();
    EXPECT_EQ(Str(rows.back(), {"tenant"}), t) << margin.body;
    EXPECT_EQ(s_->As(owner).Do("GET", "/v1/billing/margin?month=2026-10").status, 403);

    // The same from the CLI: `hangar invoice list|show|pdf`, `hangar billing margin`.
    auto cli = [&](std::vector<std::string> args, std::string& out) {
        std::string err;
        std::vector<std::string> full = {
            "--server", s_->Url(), "--token", s_->process().AdminToken()};
        full.insert(full.end(), args.begin(), args.end());
        int rc = RunCli(full, out, err);
        EXPECT_EQ(rc, 0) << err;
        return rc;
    };
    std::string out;
    cli({"invoice", "list", "--tenant", t}, out);
    EXPECT_NE(out.find("NUMBER"), std::string::npos) << out;
    EXPECT_NE(out.find("148.55"), std::string::npos) << out;
    EXPECT_LT(out.find("2026-11-01"), out.find("2026-10-01")) << "newest first\n" << out;
    cli({"invoice", "show", oct_id}, out);
    EXPECT_NE(out.find("SLA credit for 2026-10"), std::string::npos) << out;
    EXPECT_NE(out.find("Total 148.55 EUR"), std::string::npos) << out;
    cli({"invoice", "pdf", oct_id, "--file", dir.path() + "/oct.pdf"}, out);
    EXPECT_TRUE(ReadFile(dir.path() + "/oct.pdf").starts_with("%PDF-"));
    cli({"billing", "margin", "--month", "2026-10"}, out);
    EXPECT_NE(out.find("MARGIN %"), std::string::npos) << out;
    EXPECT_NE(out.find("87.33"), std::string::npos) << out;
    std::string err;
    EXPECT_NE(
        RunCli(
            {"--server",
             s_->Url(),
             "--token",
             s_->process().AdminToken(),
             "invoice",
             "void",
             oct_id},
            out,
            err
        ),
        0
    );
    EXPECT_NE(err.find("only a draft or an issued one"), std::string::npos) << err;
}

TEST_F(BillingTest, ADeclinedCardMakesItPastDueSuspendsAfterTheGraceAndAPaymentResumes) {
    std::string t = GermanTenant("bill-late");
    std::string ins = Instance(t, "web");
    std::string sub = Subscribe(
        t, R"(,"starts_at":"2026-11-01T00:00:00Z","payment_method":"pm_card_chargeDeclined")"
    );
    ASSERT_FALSE(sub.empty());
    auto admin = s_->Admin();
    ASSERT_TRUE(Eventually([&] {
        return Str(admin.Do("GET", "/v1/subscriptions/" + sub).Json(), {"status", "state"}) ==
               "past_due";
    })) << admin.Do("GET", "/v1/subscriptions/" + sub).body;
    json::array inv = Invoices(t);
    ASSERT_EQ(inv.size(), 1U);
    std::string id = Str(inv[0], {"metadata", "id"});
    EXPECT_EQ(Str(inv[0], {"status", "state"}), "issued");
    EXPECT_EQ(Str(inv[0], {"status", "payment", "status"}), "failed");
    EXPECT_EQ(Str(inv[0], {"status", "payment", "error"}), "Your card was declined.");
    // The announcement, then after the 3 s grace the suspension and its e-mail.
    ASSERT_TRUE(Eventually([&] {
        const json::value* v = admin.Do("GET", "/v1/instances/" + ins)
                                   .Json()
                                   .at("spec")
                                   .as_object()
                                   .if_contains("suspended");
        return v != nullptr && v->is_bool() && v->as_bool();
    })) << admin.Do("GET", "/v1/instances/" + ins).body;
    auto held = admin.Do("GET", "/v1/instances/" + ins).Json();
    EXPECT_EQ(Str(held, {"metadata", "labels", "hangar.io/billing-hold"}), "true");
    EXPECT_TRUE(
        admin.Do("GET", "/v1/subscriptions/" + sub).Json().at("status").at("suspended").as_bool()
    );
    ASSERT_TRUE(smtp_->WaitFor(2, std::chrono::seconds(20)));
    std::string mail;
    for (const auto& m : smtp_->Messages()) {
        mail += m.data;
    }
    EXPECT_NE(mail.find("bill-late@example.com"), std::string::npos);
    EXPECT_NE(mail.find("failed"), std::string::npos) << mail;
    EXPECT_NE(mail.find("suspended"), std::string::npos) << mail;
    // The customer's new card, and the invoice collected again: paid, and the instance runs.
    auto pm = admin.Do(
        "POST",
        "/v1/subscriptions/" + sub + ":payment-method",
        R"({"payment_method":"pm_card_visa"})"
    );
    ASSERT_EQ(pm.status, 200) << pm.body;
    auto paid = admin.Do("POST", "/v1/invoices/" + id + ":collect", "");
    ASSERT_EQ(paid.status, 200) << paid.body;
    EXPECT_EQ(Str(paid.Json(), {"status", "state"}), "paid");
    auto after = admin.Do("GET", "/v1/instances/" + ins).Json();
    EXPECT_FALSE(after.at("spec").at("suspended").as_bool());
    EXPECT_FALSE(after.at("metadata").at("labels").as_object().contains("hangar.io/billing-hold"));
    auto s = admin.Do("GET", "/v1/subscriptions/" + sub).Json();
    EXPECT_EQ(Str(s, {"status", "state"}), "active");
    EXPECT_FALSE(s.at("status").at("suspended").as_bool());
}

TEST_F(BillingTest, APlanChangeIsPreviewedWithItsProrationThenMadeAndAudited) {
    std::string t = GermanTenant("bill-grow");
    // Since the start of this month (a change in the minute it started would replace its plan).
    std::string month_start =
        core::FormatRfc3339(std::chrono::system_clock::now()).substr(0, 8) + "01T00:00:00Z";
    std::string sub = Subscribe(t, R"(,"starts_at":")" + month_start + R"(")");
    ASSERT_FALSE(sub.empty());
    std::string owner = s_->Token(t, "owner");
    std::string viewer = s_->Token(t, "viewer");
    auto preview =
        s_->As(owner).Do("GET", "/v1/subscriptions/" + sub + "/change-preview?plan=platinum");
    ASSERT_EQ(preview.status, 200) << preview.body;
    auto p = preview.Json();
    EXPECT_EQ(Str(p, {"from_plan"}), "gold");
    EXPECT_EQ(Str(p, {"to_plan"}), "platinum");
    // To the period's end, the rest of the month moves from 100/month to 300/month: the
    // difference is positive and the change shows as two flat lines.
    EXPECT_FALSE(Str(p, {"difference"}).starts_with("-")) << preview.body;
    EXPECT_NE(Str(p, {"difference"}), "0.00");
    int flats = 0;
    for (const auto& l : p.at("with_change").at("lines").as_array()) {  // p holds the value
        flats += Str(l, {"model"}) == "flat";
    }
    EXPECT_EQ(flats, 2) << preview.body;
    EXPECT_EQ(
        s_->As(viewer)
            .Do("POST", "/v1/subscriptions/" + sub + ":change-plan", R"({"plan":"platinum"})")
            .status,
        403
    );
    auto changed = s_->As(owner).Do(
        "POST", "/v1/subscriptions/" + sub + ":change-plan", R"({"plan":"platinum"})"
    );
    ASSERT_EQ(changed.status, 200) << changed.body;
    EXPECT_EQ(Str(changed.Json(), {"spec", "plan"}), "platinum");
    EXPECT_EQ(changed.Json().at("status").at("phases").as_array().size(), 2U);
    auto audit = s_->Admin().Do("GET", "/v1/audit?action=subscription.change-plan&tenant=" + t);
    ASSERT_EQ(audit.status, 200);
    EXPECT_NE(audit.body.find(sub), std::string::npos) << audit.body;
    auto pause = s_->As(owner).Do("POST", "/v1/subscriptions/" + sub + ":pause", "");
    ASSERT_EQ(pause.status, 200) << pause.body;
    EXPECT_EQ(Str(pause.Json(), {"status", "state"}), "paused");
    EXPECT_EQ(s_->As(owner).Do("POST", "/v1/subscriptions/" + sub + ":pause", "").status, 409);
    EXPECT_EQ(s_->As(owner).Do("POST", "/v1/subscriptions/" + sub + ":resume", "").status, 200);
    auto up = s_->As(owner).Do("GET", "/v1/subscriptions/" + sub + "/upcoming-invoice");
    ASSERT_EQ(up.status, 200) << up.body;
    EXPECT_EQ(Str(up.Json(), {"currency"}), "EUR");
    auto end = s_->As(owner).Do(
        "POST", "/v1/subscriptions/" + sub + ":cancel", R"({"at_period_end":true})"
    );
    ASSERT_EQ(end.status, 200) << end.body;
    EXPECT_TRUE(end.Json().at("status").at("cancel_at_period_end").as_bool());
    auto now = s_->As(owner).Do("POST", "/v1/subscriptions/" + sub + ":cancel", "");
    ASSERT_EQ(now.status, 200) << now.body;
    EXPECT_EQ(Str(now.Json(), {"status", "state"}), "canceled");
    // Canceled now: its last period is invoiced at once.
    ASSERT_TRUE(Eventually([&] { return Invoices(t).size() == 1; }));
}

TEST_F(BillingTest, BadRequestsAreRefusedWithTheFieldNamed) {
    std::string t = GermanTenant("bill-bad");
    std::string sub = Subscribe(t, "");
    ASSERT_FALSE(sub.empty());
    std::string owner = s_->Token(t, "owner");
    auto admin = s_->Admin();
    struct Case {
        std::string method, path, body;
        bool as_owner;
        int status;
        std::string says;
    };
    std::vector<Case> cases = {
        {"POST",
         "/v1/subscriptions",
         R"({"tenant":")" + t + R"(","plan":"gold"})",
         false,
         409,
         "already has"},
        {"POST", "/v1/subscriptions", R"({"plan":"gold"})", false, 400, "tenant"},
        {"POST",
         "/v1/subscriptions",
         R"({"tenant":"ten_nope","plan":"gold"})",
         false,
         404,
         "tenant"},
        {"POST",
         "/v1/subscriptions",
         R"({"tenant":")" + t + R"(","plan":"tin"})",
         false,
         400,
         "plan"},
        {"POST",
         "/v1/subscriptions",
         R"({"tenant":")" + t + R"(","plan":"gold","trial_days":-1})",
         false,
         400,
         "trial_days"},
        {"POST",
         "/v1/subscriptions",
         R"({"tenant":")" + t + R"(","plan":"gold","starts_at":"yesterday"})",
         false,
         400,
         "starts_at"},
        {"POST",
         "/v1/subscriptions",
         R"({"tenant":")" + t + R"(","plan":"gold","color":"red"})",
         false,
         400,
         "color"},
        {"POST",
         "/v1/subscriptions",
         R"({"plan":"gold","starts_at":"2026-01-01T00:00:00Z"})",
         true,
         403,
         "starts_at"},
        {"POST",
         "/v1/subscriptions",
         R"({"tenant":")" + t + R"(","plan":"gold","payment_method":"pm card"})",
         false,
         400,
         "payment_method"},
        {"POST", "/v1/subscriptions", "[1]", false, 400, ""},
        {"POST", "/v1/subscriptions/" + sub + ":change-plan", "{}", true, 400, "plan"},
        {"POST",
         "/v1/subscriptions/" + sub + ":change-plan",
         R"({"plan":"gold"})",
         true,
         409,
         "already on plan gold"},
        {"POST",
         "/v1/subscriptions/" + sub + ":change-plan",
         R"({"plan":"platinum","at":"2026-01-01T00:00:00Z"})",
         true,
         403,
         "at"},
        {"POST",
         "/v1/subscriptions/" + sub + ":change-plan",
         R"({"plan":"platinum","at":"2020-01-01T00:00:00Z"})",
         false,
         409,
         "current period"},
        {"POST",
         "/v1/subscriptions/" + sub + ":cancel",
         R"({"at_period_end":"yes"})",
         true,
         400,
         "at_period_end"},
        {"POST", "/v1/subscriptions/" + sub + ":resume", "", true, 409, "not paused"},
        {"POST",
         "/v1/subscriptions/" + sub + ":payment-method",
         R"({"payment_method":""})",
         true,
         400,
         "payment_method"},
        {"POST", "/v1/subscriptions/sub_nope:pause", "", false, 404, "sub_nope"},
        {"GET", "/v1/subscriptions/" + sub + "/change-preview", "", true, 400, "plan"},
        {"GET", "/v1/subscriptions/" + sub + "/change-preview?plan=tin", "", true, 400, "plan"},
        {"GET",
         "/v1/subscriptions/" + sub + "/change-preview?plan=platinum&at=soon",
         "",
         true,
         400,
         "at"},
        {"GET", "/v1/subscriptions/" + sub + "/upcoming-invoice?x=1", "", true, 400, "x"},
        {"POST", "/v1/invoices/inv_nope:approve", "", false, 404, "inv_nope"},
        {"GET", "/v1/invoices/inv_nope/pdf", "", false, 404, "inv_nope"},
        {"GET", "/v1/billing/margin", "", false, 400, "month"},
        {"GET", "/v1/billing/margin?month=2026-13x", "", false, 400, "month"},
        {"POST",
         "/v1/planprices",
         R"({"metadata":{"name":"gold2"},"spec":{"plan":"gold2","currency":"EUR","charges":[{"model":"flat","amount":"1"}]}})",
         false,
         400,
         "plan gold2 does not exist"},
        {"POST",
         "/v1/planprices",
         R"({"metadata":{"name":"gold"},"spec":{"plan":"gold","currency":"EUR","charges":[{"model":"volume","meter":"x","tiers":[]}]}})",
         false,
         400,
         "spec.charges[0]"},
        {"POST",
         "/v1/planprices",
         R"({"metadata":{"name":"gold"},"spec":{"plan":"gold","currency":"EUR","charges":[{"model":"flat","amount":"-1"}]}})",
         false,
         400,
         "spec.charges[0].amount"},
        {"POST",
         "/v1/taxrates",
         R"({"metadata":{"name":"fr"},"spec":{"country":"FR","percent":"120"}})",
         false,
         400,
         "spec.percent"},
        {"POST",
         "/v1/taxrates",
         R"({"metadata":{"name":"fr"},"spec":{"country":"fr","percent":"20"}})",
         false,
         400,
         "spec.country"},
        {"POST",
         "/v1/taxrates",
         R"({"metadata":{"name":"it"},"spec":{"country":"FR","percent":"20"}})",
         false,
         400,
         "metadata.name"},
        {"POST",
         "/v1/unitcosts",
         R"({"metadata":{"name":"gpu-hour"},"spec":{"resource":"gpu_hour","amount":"1","currency":"EUR"}})",
         false,
         400,
         "spec.resource"},
        {"POST",
         "/v1/tenants",
         R"({"metadata":{"name":"bill-badc"},"spec":{"country":"Germany"}})",
         false,
         400,
         "spec.country"},
        {"POST", "/v1/invoices", R"({"metadata":{"name":"x"},"spec":{}})", false, 405, ""},
    };
    for (const Case& c : cases) {
        auto r = (c.as_owner ? s_->As(owner) : admin).Do(c.method, c.path, c.body);
        EXPECT_EQ(r.status, c.status) << c.method << " " << c.path << " " << c.body << "\n"
                                      << r.body;
        EXPECT_NE(r.body.find(c.says), std::string::npos) << c.path << " " << c.body << "\n"
                                                          << r.body;
    }
    // Webhooks: only Stripe's signature over the exact body, within five minutes.
    std::string body =
        R"({"id":"evt_1","type":"payment_intent.succeeded","data":{"object":{"id":"pi_1","metadata":{"invoice":"inv_x"}}}})";
    auto hook = [&](const std::string& sig) {
        return s_->Anonymous().Do(
            "POST",
            "/v1/billing/stripe/webhook",
            body,
            sig.empty()
                ? std::vector<std::pair<std::string, std::string>>{}
                : std::vector<std::pair<std::string, std::string>>{{"Stripe-Signature", sig}}
        );
    };
    long now = static_cast<long>(std::time(nullptr));
    EXPECT_EQ(hook("").status, 401);
    EXPECT_EQ(hook(fmt::format("t={},v1=deadbeef", now)).status, 401);
    EXPECT_EQ(hook("v1=" + std::string(64, 'a')).status, 401);
    EXPECT_EQ(hook(fmt::format("t={},v1={}", now - 3600, std::string(64, 'a'))).status, 401);
    EXPECT_EQ(hook("t=abc,v1=,,,===").status, 401);
    auto ok = hook(fmt::format(
        "t={},v1={}", now, billing::HmacSha256Hex(kWebhookSecret, fmt::format("{}.{}", now, body))
    ));
    EXPECT_EQ(ok.status, 200) << ok.body << " (an unknown invoice is acknowledged, not retried)";
    EXPECT_EQ(s_->process().Running(), true);
}

}  // namespace
}  // namespace hangar::testing
