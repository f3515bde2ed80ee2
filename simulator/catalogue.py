"""The vocabulary of the simulated CRM: places, channels, stages, products and the odds that make them realistic.

Everything here is data. The generators only combine it, so a reviewer can check the realism of the
simulation by reading this file alone.
"""

from __future__ import annotations

from typing import NamedTuple

REPORTING_CURRENCY = "USD"
BUSINESS_GROWTH = 0.5  # new accounts and deals per day grow by half over the generated period

# Regions of China as a sales organisation usually splits them (华北, 华东, 华南, 华中, 西南).
REGIONS: tuple[str, ...] = ("North China", "East China", "South China", "Central China", "Southwest China")


class City(NamedTuple):
    name: str
    province: str
    region: str
    weight: float  # share of accounts, roughly by economic size


CITIES: tuple[City, ...] = (
    City("Beijing", "Beijing", "North China", 10),
    City("Tianjin", "Tianjin", "North China", 5),
    City("Shijiazhuang", "Hebei", "North China", 3),
    City("Taiyuan", "Shanxi", "North China", 2),
    City("Shanghai", "Shanghai", "East China", 12),
    City("Hangzhou", "Zhejiang", "East China", 7),
    City("Ningbo", "Zhejiang", "East China", 3),
    City("Nanjing", "Jiangsu", "East China", 5),
    City("Suzhou", "Jiangsu", "East China", 6),
    City("Hefei", "Anhui", "East China", 3),
    City("Jinan", "Shandong", "East China", 3),
    City("Qingdao", "Shandong", "East China", 3),
    City("Fuzhou", "Fujian", "East China", 2),
    City("Xiamen", "Fujian", "East China", 2),
    City("Guangzhou", "Guangdong", "South China", 9),
    City("Shenzhen", "Guangdong", "South China", 10),
    City("Dongguan", "Guangdong", "South China", 3),
    City("Foshan", "Guangdong", "South China", 3),
    City("Nanning", "Guangxi", "South China", 2),
    City("Haikou", "Hainan", "South China", 1),
    City("Wuhan", "Hubei", "Central China", 5),
    City("Changsha", "Hunan", "Central China", 4),
    City("Zhengzhou", "Henan", "Central China", 4),
    City("Nanchang", "Jiangxi", "Central China", 2),
    City("Chengdu", "Sichuan", "Southwest China", 6),
    City("Chongqing", "Chongqing", "Southwest China", 5),
    City("Kunming", "Yunnan", "Southwest China", 2),
    City("Guiyang", "Guizhou", "Southwest China", 2),
)
HEADQUARTERS_REGION = "East China"


class Industry(NamedTuple):
    name: str
    company_word: str  # how the industry shows in a company name
    weight: float


INDUSTRIES: tuple[Industry, ...] = (
    Industry("manufacturing", "Manufacturing", 20),
    Industry("technology", "Technology", 15),
    Industry("retail", "Trading", 12),
    Industry("finance", "Financial Services", 8),
    Industry("healthcare", "Medical", 8),
    Industry("education", "Education", 7),
    Industry("logistics", "Logistics", 8),
    Industry("real_estate", "Real Estate", 6),
    Industry("energy", "Energy", 6),
    Industry("government", "Public Services", 5),
    Industry("media", "Media", 5),
)

BRANDS: tuple[str, ...] = (
    "Huaxin",
    "Jinghua",
    "Tianyu",
    "Hengtong",
    "Zhongke",
    "Ruida",
    "Xinda",
    "Boyuan",
    "Kaiyuan",
    "Dingsheng",
    "Yongfeng",
    "Haoyun",
    "Shengshi",
    "Longteng",
    "Jiahe",
    "Mingde",
    "Anxin",
    "Hongtu",
    "Fuyuan",
    "Chuangxin",
    "Lianhe",
    "Zhongtian",
    "Huarui",
    "Jinxin",
    "Weilai",
    "Xinghe",
    "Yida",
    "Tongda",
    "Baoli",
    "Kangtai",
)


class Level(NamedTuple):
    name: str
    share: float
    opportunity_weight: float  # how much more often an account of this level buys again
    quantity_factor: float  # how much bigger its deals are
    loss_factor: float  # how much more often its deals are lost


LEVELS: tuple[Level, ...] = (
    Level("A", 0.15, 3.0, 2.5, 0.8),
    Level("B", 0.35, 2.0, 1.4, 0.95),
    Level("C", 0.50, 1.0, 1.0, 1.1),
)
PUBLIC_POOL_SHARE = 0.20
PUBLIC_POOL_OPPORTUNITY_WEIGHT = 0.3  # released accounts are rarely worked


class Channel(NamedTuple):
    name: str
    share: float  # share of new accounts
    loss_factor: float  # multiplies every stage's loss odds: the channel's conversion rate
    acquisition_cost: float | None  # marketing spend per new account, in the spend currency; None: no spend
    spend_currency: str


CHANNELS: tuple[Channel, ...] = (
    Channel("website", 0.24, 1.0, 2400.0, "CNY"),
    Channel("online_ads", 0.20, 1.25, 600.0, "USD"),
    Channel("referral", 0.15, 0.55, None, "CNY"),
    Channel("trade_show", 0.14, 0.85, 1500.0, "EUR"),
    Channel("cold_call", 0.15, 1.5, 1800.0, "CNY"),
    Channel("partner", 0.12, 0.7, None, "CNY"),
)

# The default stage catalogue of domain.md: five open stages in funnel order, then the two closed ones.
OPEN_STAGES: tuple[str, ...] = ("lead", "contacted", "qualified", "proposal", "negotiation")
# The open stages' win probabilities in percent, as the default stage catalogue (dbt seed stage_catalogue.csv)
# has them: a 悟空CRM stage group carries them as its statuses' rates.
OPEN_STAGE_WIN_PERCENT: tuple[int, ...] = (10, 20, 40, 60, 80)
WON, LOST = len(OPEN_STAGES), len(OPEN_STAGES) + 1
# Every stage's label, as the default stage catalogue's label_zh has them: a Salesforce org's stage picklist
# (opportunity_stage.master_label) carries them.
STAGE_LABELS: dict[str, str] = {
    "lead": "潜在客户识别",
    "contacted": "初步接触",
    "qualified": "需求确认",
    "proposal": "方案制定",
    "negotiation": "商务谈判",
    "won": "成交",
    "lost": "丢单",
}
STAGES: tuple[str, ...] = (*OPEN_STAGES, "won", "lost")
STATUSES: tuple[str, ...] = ("open", "won", "lost")
FIRST_STAGE_ODDS: tuple[float, ...] = (0.88, 0.12, 0, 0, 0)  # some deals are entered once contact is made

# Per open stage: mean days before the next move, and the odds of each kind of move. Tuned so that
# about 27% of closed deals are won (47% from referrals, 11% from cold calls) with about five moves a deal.
STAGE_DWELL_DAYS: tuple[float, ...] = (6.0, 9.0, 12.0, 14.0, 10.0)
STAGE_LOSS_ODDS: tuple[float, ...] = (0.14, 0.18, 0.21, 0.24, 0.26)
STAGE_BACK_ODDS: tuple[float, ...] = (0.0, 0.13, 0.15, 0.16, 0.16)
STAGE_SKIP_ODDS: tuple[float, ...] = (0.05, 0.05, 0.04, 0.03, 0.0)  # from proposal a skip lands on won
MAX_MOVES = 24  # a deal still open after this many moves stays where it is

LOSS_REASONS: tuple[str, ...] = ("price", "competitor", "no_budget", "no_decision", "timing")
# Early losses are about budget and decisions, late ones about price and competitors.
LOSS_REASON_ODDS_BY_STAGE: tuple[tuple[float, ...], ...] = (
    (1, 1, 4, 3, 2),
    (1, 2, 4, 3, 2),
    (2, 3, 3, 2, 2),
    (4, 3, 1, 2, 1),
    (5, 4, 1, 1, 1),
)

ACTIVITY_TYPES: tuple[str, ...] = ("call", "visit", "email", "meeting", "demo")
ACTIVITY_TYPE_ODDS: tuple[float, ...] = (0.35, 0.15, 0.25, 0.15, 0.10)
DEAL_ACTIVITIES_PER_DAY = 0.2  # follow-ups on a deal while it is open
ACCOUNT_ACTIVITIES_PER_DAY = 0.008  # follow-ups on an account outside any deal


class Currency(NamedTuple):
    code: str
    account_share: float  # share of accounts billed in it
    rate_to_reporting: float  # where its daily rate starts and reverts to
    daily_volatility: float


CURRENCIES: tuple[Currency, ...] = (
    Currency("CNY", 0.75, 0.1385, 0.002),
    Currency("USD", 0.17, 1.0, 0.0),
    Currency("EUR", 0.08, 1.08, 0.004),
)
# fx_rates holds a daily row for every currency except the reporting one, which the warehouse treats as 1.
FX_CURRENCIES: tuple[str, ...] = tuple(c.code for c in CURRENCIES if c.code != REPORTING_CURRENCY)


class Product(NamedTuple):
    name: str
    category: str
    list_price: float  # in the reporting currency


PRODUCTS: tuple[Product, ...] = (
    Product("CRM Enterprise License", "software", 1200),
    Product("Cloud CRM Standard", "cloud", 480),
    Product("Implementation Service (day)", "services", 800),
    Product("Barcode Scanner", "hardware", 250),
    Product("Admin Training Course", "training", 1500),
    Product("CRM Professional License", "software", 600),
    Product("Cloud CRM Premium", "cloud", 960),
    Product("Data Migration Service", "services", 6000),
    Product("POS Terminal", "hardware", 900),
    Product("End-user Training (seat)", "training", 200),
    Product("Analytics Add-on", "software", 300),
    Product("Cloud Storage 1TB", "cloud", 240),
    Product("Custom Development (day)", "services", 900),
    Product("Rack Server", "hardware", 8000),
    Product("Sales Methodology Workshop", "training", 5000),
    Product("Marketing Automation License", "software", 800),
    Product("API Gateway", "cloud", 3000),
    Product("Integration Service", "services", 12000),
    Product("Network Switch", "hardware", 1500),
    Product("Certification Exam Voucher", "training", 300),
    Product("Call Center Module", "software", 450),
    Product("Cloud Backup", "cloud", 1200),
    Product("Premium Support", "services", 5000),
    Product("Tablet for Field Sales", "hardware", 400),
    Product("Train-the-Trainer Program", "training", 8000),
    Product("Mobile Sales App License", "software", 150),
    Product("Private Cloud Node", "cloud", 15000),
    Product("Standard Support", "services", 2000),
    Product("Label Printer", "hardware", 350),
    Product("Online Academy Subscription", "training", 100),
    Product("Data Integration Suite", "software", 5000),
    Product("SMS Gateway Package", "cloud", 500),
    Product("Consulting (day)", "services", 1200),
    Product("IP Phone", "hardware", 120),
    Product("Executive Briefing", "training", 3500),
    Product("Workflow Engine License", "software", 2500),
    Product("E-Signature Package", "cloud", 800),
    Product("Health Check Service", "services", 3000),
    Product("Video Conference Kit", "hardware", 2500),
    Product("Analytics Training Course", "training", 1800),
    Product("Document Management License", "software", 900),
    Product("Cloud Call Center Seat", "cloud", 600),
    Product("On-site Maintenance", "services", 4000),
    Product("Edge Gateway", "hardware", 1800),
    Product("Developer Bootcamp", "training", 6000),
    Product("BI Dashboard License", "software", 700),
    Product("Data Warehouse Service", "cloud", 9000),
    Product("Managed Service (monthly)", "services", 2500),
    Product("Storage Array", "hardware", 20000),
    Product("Onboarding Package", "training", 2500),
)
LINES_PER_DEAL_ODDS: tuple[float, ...] = (0.50, 0.33, 0.17)  # 1, 2 or 3 products
TYPICAL_LINE_VALUE = 12_000.0  # sets the usual quantity of a product: cheap items sell by the dozen
DISCOUNT_FREE_SHARE = 0.35
MAX_DISCOUNT_PCT = 30.0

SURNAMES: tuple[str, ...] = (
    "Wang",
    "Li",
    "Zhang",
    "Liu",
    "Chen",
    "Yang",
    "Huang",
    "Zhao",
    "Wu",
    "Zhou",
    "Xu",
    "Sun",
    "Ma",
    "Zhu",
    "Hu",
    "Guo",
    "He",
    "Gao",
    "Lin",
    "Luo",
    "Zheng",
    "Liang",
    "Xie",
    "Song",
    "Tang",
    "Han",
    "Feng",
    "Deng",
    "Cao",
    "Peng",
)
GIVEN_NAMES: tuple[str, ...] = (
    "Wei",
    "Fang",
    "Na",
    "Min",
    "Jing",
    "Lei",
    "Qiang",
    "Jun",
    "Yang",
    "Yan",
    "Jie",
    "Tao",
    "Ming",
    "Chao",
    "Xiuying",
    "Hao",
    "Yu",
    "Ting",
    "Xin",
    "Lin",
    "Hui",
    "Bin",
    "Peng",
    "Li",
    "Ying",
    "Bo",
    "Kai",
    "Rui",
    "Yifan",
    "Zihan",
    "Haoran",
    "Xiaoming",
    "Jiayi",
    "Yuxuan",
    "Shuang",
    "Dan",
    "Long",
    "Gang",
    "Ping",
    "Hong",
)
CONTACT_TITLES: tuple[str, ...] = (
    "CEO",
    "CFO",
    "CTO",
    "IT Director",
    "Purchasing Manager",
    "Operations Manager",
    "Sales Director",
    "Project Manager",
    "Engineer",
    "Administrative Assistant",
)
CONTACTS_PER_ACCOUNT = 2.0
MOBILE_PREFIXES: tuple[str, ...] = ("138", "139", "136", "158", "186", "188", "135", "137", "150", "189")

PAYMENT_METHODS: tuple[str, ...] = (
    "bank_transfer",
    "bank_acceptance_bill",
    "alipay",
    "wechat_pay",
    "check",
    "credit_card",
)
PAYMENT_METHOD_ODDS: tuple[float, ...] = (0.60, 0.10, 0.10, 0.08, 0.07, 0.05)
# How an installment gets paid: in full by its due date, in full but late, in part, or not at all.
PAYMENT_BEHAVIOUR_ODDS: tuple[float, ...] = (0.64, 0.20, 0.10, 0.06)
INSTALLMENT_COUNT_ODDS: tuple[float, ...] = (0.10, 0.20, 0.30, 0.40)  # 1 to 4 installments
CONTRACT_TERM_DAYS: tuple[int, ...] = (365, 730, 1095)
CONTRACT_TERM_ODDS: tuple[float, ...] = (0.6, 0.25, 0.15)
WINS_WITH_CONTRACT = 0.95
CANCELLED_CONTRACT_SHARE = 0.04
UNPLANNED_PAYMENT_SHARE = 0.03  # receipts the finance team could not match to an installment
INVOICED_INSTALLMENT_SHARE = 0.9
SURVEYED_CONTRACT_SHARE = 0.35
SURVEY_WITHOUT_PRODUCT_SHARE = 0.3
SCORE_ODDS: tuple[float, ...] = (0.04, 0.08, 0.20, 0.38, 0.30)  # scores 1 to 5
RENEWALS_PER_WIN = 0.04  # contracts signed without an opportunity (renewals, add-ons)

# Rows soft-deleted during the generated history, by table.
SOFT_DELETE_SHARE: dict[str, float] = {
    "customers": 0.01,
    "contacts": 0.02,
    "opportunities": 0.005,
    "contracts": 0.003,
    "payments": 0.003,
    "invoices": 0.005,
    "activities": 0.004,
}
