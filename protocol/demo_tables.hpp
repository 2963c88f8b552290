// The tables behind the demo leads (demo_data.cpp): names, titles, sources,
// companies, industries, countries, size bands and the kinds of activity with
// their properties. Constant data only; internal to demo_data.cpp.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace hotlead::demo_detail {

// -- people --------------------------------------------------------------------

// 128 x 128 names: lead i's pair is a permutation of i's low 14 bits, so
// 16,384 consecutive leads never share a name (see name_pair).
constexpr std::array<std::string_view, 128> first_names = {
  "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David",
  "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah",
  "Charles", "Karen", "Daniel", "Nancy", "Matthew", "Lisa", "Anthony", "Betty", "Mark", "Sandra",
  "Steven", "Ashley", "Andrew", "Emily", "Joshua", "Michelle", "Kevin", "Amanda", "Brian",
  "Melissa", "George", "Stephanie", "Ryan", "Rebecca", "Jacob", "Laura", "Nicholas", "Emma",
  "Eric", "Olivia", "Jonathan", "Sophia", "Liam", "Chloe", "Noah", "Hannah", "Lucas", "Mia",
  "Oliver", "Charlotte", "Ethan", "Amelia", "Priya", "Aarav", "Ananya", "Rohan", "Wei", "Mei",
  "Hiroshi", "Yuki", "Kenji", "Sakura", "Minjun", "Jisoo", "Carlos", "Sofia", "Diego",
  "Valentina", "Mateo", "Camila", "Lucia", "Javier", "Pierre", "Camille", "Louis", "Manon",
  "Hugo", "Lea", "Lukas", "Anna", "Felix", "Lena", "Jonas", "Marie", "Lars", "Ingrid", "Sven",
  "Astrid", "Erik", "Freya", "Ahmed", "Fatima", "Omar", "Layla", "Yusuf", "Amira", "Kwame",
  "Amara", "Chidi", "Zara", "Tomasz", "Katarzyna", "Piotr", "Agnieszka", "Ivan", "Elena",
  "Dmitri", "Olga", "Giulia", "Marco", "Francesca", "Luca", "Sean", "Aoife", "Connor", "Niamh",
  "Mateus", "Beatriz", "Thiago", "Isabela"};
// E-mails use the letters only ("O'Brien" -> "obrien"): these stay distinct.
constexpr std::array<std::string_view, 128> last_names = {
  "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
  "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
  "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez",
  "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott",
  "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall", "Rivera",
  "Campbell", "Mitchell", "Carter", "Roberts", "Patel", "Shah", "Gupta", "Sharma", "Singh",
  "Kumar", "Chen", "Wang", "Li", "Zhang", "Liu", "Tanaka", "Suzuki", "Sato", "Watanabe", "Kim",
  "Park", "Choi", "Silva", "Santos", "Oliveira", "Costa", "Pereira", "Fernandez", "Gomez", "Diaz",
  "Moreno", "Romero", "Dubois", "Durand", "Lefebvre", "Moreau", "Laurent", "Muller", "Schmidt",
  "Schneider", "Fischer", "Weber", "Becker", "Hoffmann", "Wagner", "Van Dijk", "Bakker",
  "Visser", "Andersson", "Johansson", "Karlsson", "Nilsson", "Larsen", "Hansen", "Nielsen",
  "Kowalski", "Nowak", "Wojcik", "Ivanov", "Petrov", "Rossi", "Russo", "Ferrari", "Esposito",
  "Bianchi", "Murphy", "Kelly", "Byrne", "Walsh", "Okafor", "Mensah", "Adeyemi", "Haddad",
  "Khalil", "Hassan", "Cohen", "O'Brien", "Novak", "Horvat", "Popescu", "Yilmaz", "Nakamura"};

constexpr bool all_set(const std::array<std::string_view, 128>& a) {
  for (auto s : a)
    if (s.empty())
      return false;
  return true;
}
static_assert(all_set(first_names) && all_set(last_names), "each name table needs 128 names");


/// Title levels: 0 individual contributor, 1 manager, 2 director or head,
/// 3 vice president, 4 C-level or founder.
constexpr std::array<std::array<std::string_view, 10>, 5> titles = {{
  {"Software Engineer", "Marketing Specialist", "Data Analyst", "Sales Representative",
   "Business Analyst", "Consultant", "Operations Associate", "Designer", "Student",
   "Marketing Coordinator"},
  {"Marketing Manager", "Sales Manager", "Engineering Manager", "Product Manager", "IT Manager",
   "Operations Manager", "Account Manager", "Procurement Manager", "Team Lead",
   "Revenue Operations Manager"},
  {"Director of Marketing", "Sales Director", "IT Director", "Director of Engineering",
   "Head of Growth", "Head of Sales", "Head of Data", "Head of Operations",
   "Director of Procurement", "Head of Revenue Operations"},
  {"VP Sales", "VP Engineering", "VP Marketing", "VP Operations", "VP of Product", "VP Finance",
   "VP Customer Success", "SVP Sales", "VP of IT", "VP Growth"},
  {"CEO", "CTO", "CFO", "COO", "CMO", "Founder", "Co-Founder", "Chief Revenue Officer",
   "Chief Technology Officer", "Owner"},
}};
constexpr std::array<double, 5> seniority_intent = {-0.45, 0.0, 0.35, 0.55, 0.65};

constexpr std::array<std::string_view, 7> sources = {
  "Website", "Referral", "LinkedIn", "Google Ads", "Webinar", "Trade Show", "Cold Outreach"};
constexpr std::array<double, 7> source_weights = {30, 8, 14, 18, 10, 8, 12};
constexpr std::array<double, 7> source_intent = {0.1, 0.8, 0.0, -0.15, 0.5, 0.3, -0.6};

constexpr std::array<std::string_view, 5> free_mail = {"gmail.com", "outlook.com", "yahoo.com",
                                                        "icloud.com", "proton.me"};
constexpr std::array<std::string_view, 8> sales_reps = {
  "maya.okafor@sales.example",  "dan.whitfield@sales.example", "sofia.marin@sales.example",
  "raj.iyer@sales.example",     "emma.lindqvist@sales.example", "tom.becker@sales.example",
  "grace.osei@sales.example",   "leo.tanaka@sales.example"};

// -- companies -----------------------------------------------------------------

constexpr std::array<std::string_view, 64> company_stems = {
  "Northwind", "Contoso", "Fabrikam", "Blue Harbor", "Redwood", "Summit", "Ironclad",
  "Bright Path", "Silverline", "Evergreen", "Lighthouse", "Cobalt", "Granite", "Pinnacle",
  "Horizon", "Keystone", "Maple", "Riverbend", "Starling", "Tidewater", "Vantage", "Wildflower",
  "Zephyr", "Atlas", "Beacon", "Cedar", "Crescent", "Driftwood", "Falcon", "Foxglove",
  "Harbor Point", "Juniper", "Kestrel", "Lumen", "Meridian", "Nimbus", "Oakridge", "Orchid",
  "Polaris", "Quartz", "Sapphire", "Sequoia", "Solstice", "Stonebridge", "Sunrise", "Trailhead",
  "Willow", "Yarrow", "Alder", "Bluebird", "Copperleaf", "Dunmore", "Emberly", "Fairview",
  "Glenwood", "Hollis", "Ivywood", "Larkspur", "Marlow", "Norcross", "Pembrook", "Ravenwood",
  "Thornbury", "Westbrook"};

struct industry_info {
  std::string_view name;
  double intent;              // how keen the industry is on what we sell
  double revenue_per_head;    // dollars per employee per year
};
constexpr std::array<industry_info, 10> industries = {{
  {"Software", 0.25, 220e3},       {"Healthcare", 0.0, 150e3},
  {"Financial Services", 0.15, 350e3}, {"Retail", -0.1, 180e3},
  {"Manufacturing", -0.05, 200e3}, {"Logistics", 0.0, 170e3},
  {"Media", -0.1, 160e3},          {"Education", -0.3, 90e3},
  {"Professional Services", 0.05, 140e3}, {"Energy", 0.0, 600e3},
}};

/// The second word of a company name, and its industry (index above).
struct company_kind {
  std::string_view word;
  uint8_t industry;
};
constexpr std::array<company_kind, 24> company_kinds = {{
  {"Software", 0},  {"Labs", 0},      {"Cloud", 0},       {"Systems", 0},
  {"Analytics", 0}, {"Health", 1},    {"Medical", 1},     {"Capital", 2},
  {"Bank", 2},      {"Insurance", 2}, {"Retail", 3},      {"Foods", 3},
  {"Manufacturing", 4}, {"Industries", 4}, {"Logistics", 5}, {"Freight", 5},
  {"Media", 6},     {"Studios", 6},   {"Learning", 7},    {"Academy", 7},
  {"Consulting", 8}, {"Partners", 8}, {"Energy", 9},      {"Power", 9},
}};
constexpr uint32_t company_count = company_stems.size() * company_kinds.size();

struct country_info {
  std::string_view name, region, dial, legal; // region "" = no region tag
  double weight;
};
constexpr std::array<country_info, 15> countries = {{
  {"United States", "na", "+1", ", Inc.", 30}, {"Canada", "na", "+1", " Ltd.", 6},
  {"United Kingdom", "emea", "+44", " Ltd", 12}, {"Germany", "emea", "+49", " GmbH", 9},
  {"France", "emea", "+33", " SAS", 6},       {"Netherlands", "emea", "+31", " B.V.", 4},
  {"Sweden", "emea", "+46", " AB", 3},        {"Spain", "emea", "+34", " S.L.", 3},
  {"Ireland", "emea", "+353", " Ltd", 2},     {"India", "apac", "+91", " Pvt Ltd", 6},
  {"Australia", "apac", "+61", " Pty Ltd", 5}, {"Singapore", "apac", "+65", " Pte Ltd", 3},
  {"Japan", "apac", "+81", "", 4},            {"Brazil", "", "+55", " Ltda", 4},
  {"Mexico", "", "+52", "", 3},
}};
constexpr std::array<double, 15> country_weights = [] {
  std::array<double, 15> w{};
  for (size_t k = 0; k < w.size(); ++k)
    w[k] = countries[k].weight;
  return w;
}();

// Employees: six size bands, smaller companies more common.
constexpr std::array<double, 6> band_low = {1, 11, 51, 201, 1001, 5001};
constexpr std::array<double, 6> band_high = {10, 50, 200, 1000, 5000, 50000};
constexpr std::array<double, 6> band_weights = {12, 22, 24, 20, 13, 9};


// -- activity ------------------------------------------------------------------

enum kind : uint8_t {
  page_view, pricing_view, email_open, email_click, webinar, form_submit, demo_request,
  unsubscribe, kind_count
};
constexpr std::array<std::string_view, kind_count> kind_type = {
  "page_view", "page_view", "email_open", "email_click", "webinar", "form_submit",
  "demo_request", "unsubscribe"};
// Where in a lead's journey each kind tends to happen (0 first touch, 1 last).
constexpr std::array<double, kind_count> kind_stage = {0.3, 0.65, 0.2, 0.4, 0.5, 0.6, 0.8, 0.9};
// At most this many per lead: nobody asks for five demos.
constexpr std::array<uint8_t, kind_count> kind_cap = {40, 40, 40, 40, 3, 4, 2, 1};

constexpr std::array<std::string_view, 10> page_props = {
  R"({"path":"/"})", R"({"path":"/product"})", R"({"path":"/features"})",
  R"({"path":"/integrations"})", R"({"path":"/customers"})",
  R"({"path":"/blog/what-is-lead-scoring"})", R"({"path":"/blog/crm-hygiene"})",
  R"({"path":"/docs/getting-started"})", R"({"path":"/about"})", R"({"path":"/careers"})"};
constexpr std::array<std::string_view, 8> campaign_props = {
  R"({"campaign":"welcome-series"})", R"({"campaign":"q3-launch"})",
  R"({"campaign":"product-update"})", R"({"campaign":"case-study-fintech"})",
  R"({"campaign":"webinar-invite"})", R"({"campaign":"monthly-newsletter"})",
  R"({"campaign":"pricing-update"})", R"({"campaign":"re-engagement"})"};
constexpr std::array<std::string_view, 3> webinar_props = {
  R"({"webinar":"lead-scoring-101"})", R"({"webinar":"pipeline-forecasting"})",
  R"({"webinar":"customer-story-northwind"})"};
constexpr std::array<std::string_view, 4> form_props = {
  R"({"form":"contact-us"})", R"({"form":"newsletter"})", R"({"form":"ebook-download"})",
  R"({"form":"trial-signup"})"};

/// The first touch each source leaves (sources order).
struct touch {
  kind k;
  std::string_view props;
};
constexpr std::array<touch, 7> first_touch = {{
  {page_view, R"({"path":"/"})"},
  {page_view, R"({"path":"/","utm_source":"referral"})"},
  {page_view, R"({"path":"/lp/lead-scoring","utm_source":"linkedin","utm_medium":"social"})"},
  {page_view, R"({"path":"/lp/lead-scoring","utm_source":"google","utm_medium":"cpc"})"},
  {webinar, R"({"webinar":"lead-scoring-101"})"},
  {form_submit, R"({"form":"booth-scan"})"},
  {email_open, R"({"campaign":"outbound-sequence"})"},
}};


} // namespace hotlead::demo_detail
