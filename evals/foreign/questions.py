"""The foreign eval's questions, each with the plan a correct agent runs, written by hand.

Written before any model answered them. Each tool question carries its solved plan in
the plan language (README "The plan language"): `evals.foreign.generate` runs those
calls with the real tools and writes `dataset.jsonl`, the expected calls and the facts
a correct answer contains, computed from the results. A fact is a path into a result
(`$1.mean`, `$2.solution[0]`, `$1[0].total`), with `:N` for N decimals (default 2);
only direct questions state their facts as text.

Groups as in the shop's dataset: `direct` (no tool), `one_tool` (one call, often in a
question of several sentences or clauses where only one call is needed), `multi_tool`
(independent calls, several of the same tool among them) and `chain` (a call takes
another's result).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Spec:
    """One question as written: its plan (plan-language call lines) and its facts."""

    id: str
    group: str
    question: str
    plan: str = ""
    facts: tuple[str, ...] = ()
    reference: str = ""  # a direct question's answer; a tool question's is made from its facts


SPECS: tuple[Spec, ...] = (
    # --- direct: no tool helps --------------------------------------------------------------
    Spec(
        "greet-kinds",
        "direct",
        "hey! what kinds of things can you work out for me?",
        reference="Statistics, fractions, dates, loans and interest, matrices, unit "
        "conversions and order totals.",
    ),
    Spec(
        "thanks-done",
        "direct",
        "Thanks, that's everything I needed today.",
        reference="You're welcome; glad to help.",
    ),
    Spec(
        "perm-vs-comb",
        "direct",
        "In one line, what's the difference between a permutation and a combination?",
        facts=("order",),
        reference="In a permutation the order matters; in a combination it does not.",
    ),
    Spec(
        "irr-meaning",
        "direct",
        "What does IRR stand for in finance?",
        facts=("internal rate",),
        reference="IRR is the internal rate of return.",
    ),
    Spec(
        "hexagon-sides",
        "direct",
        "How many sides does a hexagon have?",
        facts=("6",),
        reference="A hexagon has 6 sides.",
    ),
    Spec(
        "pythagoras",
        "direct",
        "Who is the Pythagorean theorem named after?",
        facts=("Pythagoras",),
        reference="It is named after Pythagoras of Samos.",
    ),
    # --- one tool ----------------------------------------------------------------------------
    Spec(
        "sprint-times",
        "one_tool",
        "Our five sprinters ran the 100 m in 10.9, 11.4, 10.7, 11.9 and 11.2 seconds. "
        "What were the mean and the fastest time?",
        "1. describe_numbers(values=[10.9, 11.4, 10.7, 11.9, 11.2])",
        ("$1.mean", "$1.min"),
    ),
    Spec(
        "latency-deciles",
        "one_tool",
        "Give me the deciles of these response times in ms: "
        "120, 95, 210, 180, 99, 143, 160, 175, 130, 201, 188, 115",
        "1. quantiles(values=[120, 95, 210, 180, 99, 143, 160, 175, 130, 201, 188, 115], n=10)",
        ("$1.cut_points[0]:1", "$1.cut_points[8]:1"),
    ),
    Spec(
        "course-grade",
        "one_tool",
        "Homework scored 92 with weight 2, the midterm 78 with weight 3 and the final exam "
        "85 with weight 5. What's my weighted average?",
        "1. weighted_mean(values=[92, 78, 85], weights=[2, 3, 5])",
        ("$1.weighted_mean",),
    ),
    Spec(
        "ad-spend-fit",
        "one_tool",
        "Ad spend in thousands was 1, 2, 3, 5 and 8, and sales were 12, 15, 19, 24 and 35. "
        "What's the slope of the best-fit line, and how strong is the correlation?",
        "1. linear_fit(x=[1, 2, 3, 5, 8], y=[12, 15, 19, 24, 35])",
        ("$1.slope", "$1.r:3"),
    ),
    Spec(
        "bike-lock",
        "one_tool",
        "A bike lock has 4 dials, each 0 to 9, and digits may repeat. How many codes are possible?",
        '1. count_arrangements(n=10, k=4, kind="permutations", repetition=true)',
        ("$1.count",),
    ),
    Spec(
        "factor-7429",
        "one_tool",
        "Is 7429 a prime number? If it isn't, what are its factors?",
        "1. prime_factors(n=7429)",
        ("$1.factors[0]", "$1.factors[1]", "$1.factors[2]"),
    ),
    Spec(
        "recipe-cups",
        "one_tool",
        "A recipe needs 2/3 cup of flour, 3/4 cup of sugar and 1/6 cup of cocoa. "
        "How many cups is that altogether, as a fraction?",
        '1. add_fractions(fractions=["2/3", "3/4", "1/6"])',
        ("$1.sum",),
    ),
    Spec(
        "bankers-rounding",
        "one_tool",
        "Round 2.665 to two decimal places using banker's rounding.",
        '1. round_decimal(value=2.665, places=2, rounding="half_even")',
        ("$1.value",),
    ),
    Spec(
        "suitcase-pounds",
        "one_tool",
        "My suitcase weighs 23 kg. How many pounds is that?",
        '1. convert_units(value=23, from_unit="kg", to_unit="lb")',
        ("$1.value:1",),
    ),
    Spec(
        "birth-weekday",
        "one_tool",
        "I was born on 1990-08-17. What day of the week was that?",
        '1. date_info(date="1990-08-17")',
        ("$1.weekday",),
    ),
    Spec(
        "invoice-due",
        "one_tool",
        "The invoice is dated 2026-04-10 and payment is due 45 days later. When is it due?",
        '1. add_days(start="2026-04-10", days=45)',
        ("$1.date",),
    ),
    Spec(
        "september-workdays",
        "one_tool",
        "How many working days are there from 2026-09-01 up to 2026-10-01?",
        '1. days_between(start="2026-09-01", end="2026-10-01", business_days=true)',
        ("$1.days",),
    ),
    Spec(
        "grandma-savings",
        "one_tool",
        "My grandmother put 2,500 into a savings account paying 3.1% compounded monthly. "
        "She wants to leave it there for 7 years. How much will she have then?",
        "1. compound_interest(principal=2500, annual_rate=0.031, years=7, compounds_per_year=12)",
        ("$1.future_value",),
    ),
    Spec(
        "flat-mortgage",
        "one_tool",
        "We're buying a flat. The mortgage is 320,000 at 4.25% over 25 years. What will the "
        "monthly payment be, and how much interest will we pay in total?",
        "1. loan_payment(principal=320000, annual_rate=0.0425, years=25)",
        ("$1.monthly_payment", "$1.total_interest"),
    ),
    Spec(
        "annuity-npv",
        "one_tool",
        "Someone offers me 4 yearly payments of 3,500, the first a year from now, for 12,000 "
        "paid today. Money costs me 6% a year. What's the NPV of the deal?",
        "1. net_present_value(rate=0.06, cash_flows=[-12000, 3500, 3500, 3500, 3500])",
        ("$1.npv",),
    ),
    Spec(
        "det-3x3",
        "one_tool",
        "What's the determinant of the 3x3 matrix with rows (2, 0, 1), (1, 3, 2) and (1, 1, 4)?",
        "1. determinant(matrix=[[2, 0, 1], [1, 3, 2], [1, 1, 4]])",
        ("$1.determinant",),
    ),
    Spec(
        "three-unknowns",
        "one_tool",
        "Solve this system: x + y + z = 6, 2y + 5z = -4, 2x + 5y - z = 27.",
        "1. solve_linear_system(coefficients=[[1, 1, 1], [0, 2, 5], [2, 5, -1]], "
        "constants=[6, -4, 27])",
        ("$1.solution[0]", "$1.solution[1]"),
    ),
    Spec(
        "cart-ranking",
        "one_tool",
        "Rank the lines of my cart by total cost. headphones: 2 at 59.99; cable: 5 at 8.49; "
        "speaker: 1 at 129.",
        '1. rank_items(items=[{"name": "headphones", "price": 59.99, "quantity": 2}, '
        '{"name": "cable", "price": 8.49, "quantity": 5}, '
        '{"name": "speaker", "price": 129, "quantity": 1}], by="total")',
        ("$1[0].name", "$1[0].total", "$1[2].total"),
    ),
    Spec(
        "coupon-order",
        "one_tool",
        "Total this order with a coupon for 12 off and 7% sales tax: notebook, 4 at 3.25; "
        "stapler, 1 at 14.50.",
        '1. order_total(items=[{"name": "notebook", "price": 3.25, "quantity": 4}, '
        '{"name": "stapler", "price": 14.5, "quantity": 1}], '
        'discount={"kind": "amount", "value": 12}, tax_rate=0.07)',
        ("$1.total",),
    ),
    Spec(
        "product-sales",
        "one_tool",
        "Total these sales by product: north tea 120, south tea 80, north coffee 200, "
        "east coffee 150, east tea 60.",
        '1. group_totals(sales=[{"region": "north", "product": "tea", "amount": 120}, '
        '{"region": "south", "product": "tea", "amount": 80}, '
        '{"region": "north", "product": "coffee", "amount": 200}, '
        '{"region": "east", "product": "coffee", "amount": 150}, '
        '{"region": "east", "product": "tea", "amount": 60}], by="product")',
        ("$1[0].total", "$1[1].total"),
    ),
    Spec(
        "flight-sentence",
        "one_tool",
        "How many words and how many digits are in this sentence: "
        '"Flight 714 to Sydney leaves at 10:45 from gate 22."',
        '1. text_stats(text="Flight 714 to Sydney leaves at 10:45 from gate 22.")',
        ("$1.words", "$1.digits"),
    ),
    # --- several independent calls -------------------------------------------------------------
    Spec(
        "holiday-weekdays",
        "multi_tool",
        "What weekdays do 2026-07-04 and 2026-12-25 fall on?",
        '1. date_info(date="2026-07-04")\n2. date_info(date="2026-12-25")',
        ("$1.weekday", "$2.weekday"),
    ),
    Spec(
        "run-and-height",
        "multi_tool",
        "Convert a 5 km run to miles, and 180 cm to feet.",
        '1. convert_units(value=5, from_unit="km", to_unit="mi")\n'
        '2. convert_units(value=180, from_unit="cm", to_unit="ft")',
        ("$1.value", "$2.value"),
    ),
    Spec(
        "car-loan-terms",
        "multi_tool",
        "Compare the monthly payments on a 25,000 car loan at 6.9% over 4 years versus 6 years.",
        "1. loan_payment(principal=25000, annual_rate=0.069, years=4)\n"
        "2. loan_payment(principal=25000, annual_rate=0.069, years=6)",
        ("$1.monthly_payment", "$2.monthly_payment"),
    ),
    Spec(
        "yearly-vs-daily",
        "multi_tool",
        "Which grows more over 10 years: 5,000 at 4% compounded yearly, or 5,000 at 3.9% "
        "compounded daily?",
        "1. compound_interest(principal=5000, annual_rate=0.04, years=10, compounds_per_year=1)\n"
        "2. compound_interest(principal=5000, annual_rate=0.039, years=10, "
        "compounds_per_year=365)",
        ("$1.future_value", "$2.future_value"),
    ),
    Spec(
        "two-teams",
        "multi_tool",
        "Team A scored 12, 15, 11 and 18 points; team B scored 14, 14, 13 and 16. Which team "
        "has the higher mean, and which is more consistent?",
        "1. describe_numbers(values=[12, 15, 11, 18])\n"
        "2. describe_numbers(values=[14, 14, 13, 16])",
        ("$1.mean", "$2.mean", "$1.stdev", "$2.stdev"),
    ),
    Spec(
        "factor-pair",
        "multi_tool",
        "Factor 1001 and 2431 into primes.",
        "1. prime_factors(n=1001)\n2. prime_factors(n=2431)",
        ("$1.factors[0]", "$2.factors[2]"),
    ),
    Spec(
        "fraction-and-codes",
        "multi_tool",
        "What's 3/5 + 1/4 as a fraction, and how many 3-letter sequences can be made from 7 "
        "different letters without repeating one?",
        '1. add_fractions(fractions=["3/5", "1/4"])\n'
        '2. count_arrangements(n=7, k=3, kind="permutations")',
        ("$1.sum", "$2.count"),
    ),
    Spec(
        "year-end-countdown",
        "multi_tool",
        "How many days are there from 2026-03-15 to 2026-12-31, and what ISO week is "
        "2026-12-31 in?",
        '1. days_between(start="2026-03-15", end="2026-12-31")\n2. date_info(date="2026-12-31")',
        ("$1.days", "$2.iso_week"),
    ),
    Spec(
        "divisors-and-211",
        "multi_tool",
        "Give me the gcd and lcm of 84, 126 and 210, and tell me whether 211 is prime.",
        "1. gcd_lcm(numbers=[84, 126, 210])\n2. prime_factors(n=211)",
        ("$1.gcd", "$1.lcm"),
    ),
    Spec(
        "lamps-and-deposit",
        "multi_tool",
        "Total an order of 3 lamps at 45 and 2 rugs at 120 with 20% tax. Separately, what does "
        "1,500 grow to at 5% over 3 years, compounded monthly?",
        '1. order_total(items=[{"name": "lamp", "price": 45, "quantity": 3}, '
        '{"name": "rug", "price": 120, "quantity": 2}], tax_rate=0.2)\n'
        "2. compound_interest(principal=1500, annual_rate=0.05, years=3)",
        ("$1.total", "$2.future_value"),
    ),
    Spec(
        "system-and-det",
        "multi_tool",
        "Solve 4x - y = 7 and x + 2y = 5, and find the determinant of [[4, -1], [1, 2]].",
        "1. solve_linear_system(coefficients=[[4, -1], [1, 2]], constants=[7, 5])\n"
        "2. determinant(matrix=[[4, -1], [1, 2]])",
        ("$1.solution[0]", "$1.solution[1]", "$2.determinant"),
    ),
    Spec(
        "product-and-gap",
        "multi_tool",
        "Multiply [[2, 1], [0, 3]] by [[1, 4], [2, 5]]. Also, how far is the point (3, 4) "
        "from (-1, 1)?",
        "1. matrix_multiply(a=[[2, 1], [0, 3]], b=[[1, 4], [2, 5]])\n"
        '2. distance(a={"x": 3, "y": 4}, b={"x": -1, "y": 1})',
        ("$1.result[0][1]", "$1.result[1][1]", "$2.distance"),
    ),
    Spec(
        "monthly-sales-top",
        "multi_tool",
        "Monthly sales were 340, 410, 290, 505, 460 and 380. What were the two best months' "
        "figures, and what's the running total month by month?",
        "1. top_values(values=[340, 410, 290, 505, 460, 380], n=2)\n"
        "2. running_totals(values=[340, 410, 290, 505, 460, 380])",
        ("$1.values[0]", "$1.values[1]", "$2.final"),
    ),
    Spec(
        "november-workdays",
        "multi_tool",
        "How many working days are there from 2026-11-02 to 2026-11-30, and what date is 15 "
        "working days after 2026-11-02?",
        '1. days_between(start="2026-11-02", end="2026-11-30", business_days=true)\n'
        '2. add_days(start="2026-11-02", days=15, business_days=true)',
        ("$1.days", "$2.date"),
    ),
    Spec(
        "three-conversions",
        "multi_tool",
        "Convert 300 kelvin to Fahrenheit, 2 gallons to litres and 16 oz to grams.",
        '1. convert_units(value=300, from_unit="kelvin", to_unit="fahrenheit")\n'
        '2. convert_units(value=2, from_unit="gal", to_unit="l")\n'
        '3. convert_units(value=16, from_unit="oz", to_unit="g")',
        ("$1.value:1", "$2.value", "$3.value:1"),
    ),
    Spec(
        "two-banks",
        "multi_tool",
        "I'm comparing two savings offers for 10,000 over 5 years. Bank A pays 3.6% "
        "compounded monthly; bank B pays 3.65% compounded yearly. What would each give me?",
        "1. compound_interest(principal=10000, annual_rate=0.036, years=5, compounds_per_year=12)\n"
        "2. compound_interest(principal=10000, annual_rate=0.0365, years=5, compounds_per_year=1)",
        ("$1.future_value", "$2.future_value"),
    ),
    # --- chains: a call takes another's result -------------------------------------------------
    Spec(
        "days-later-week",
        "chain",
        "What date is 120 days after 2026-02-10, and which ISO week is it in?",
        '1. add_days(start="2026-02-10", days=120)\n2. date_info(date="$1.date")',
        ("$1.date", "$2.iso_week"),
    ),
    Spec(
        "lcm-primes",
        "chain",
        "Find the least common multiple of 14, 22 and 35, then break it into primes.",
        '1. gcd_lcm(numbers=[14, 22, 35])\n2. prime_factors(n="$1.lcm")',
        ("$1.lcm", "$2.factors[3]"),
    ),
    Spec(
        "product-det",
        "chain",
        "Multiply [[2, 1], [1, 4]] by [[3, 1], [0, 2]] and then take the determinant of the "
        "result.",
        "1. matrix_multiply(a=[[2, 1], [1, 4]], b=[[3, 1], [0, 2]])\n"
        '2. determinant(matrix="$1.result")',
        ("$2.determinant",),
    ),
    Spec(
        "depot-miles",
        "chain",
        "On a map grid in kilometres the depot is at (2, 3) and the shop at (14, 8). "
        "How far apart are they in miles?",
        '1. distance(a={"x": 2, "y": 3}, b={"x": 14, "y": 8})\n'
        '2. convert_units(value="$1.distance", from_unit="km", to_unit="mi")',
        ("$2.value",),
    ),
    Spec(
        "mean-half-up",
        "chain",
        "What's the mean of 2.345, 2.355 and 2.365, rounded half up to two decimal places?",
        "1. describe_numbers(values=[2.345, 2.355, 2.365])\n"
        '2. round_decimal(value="$1.mean", places=2, rounding="half_up")',
        ("$2.value",),
    ),
    Spec(
        "quartile-grades",
        "chain",
        "Use this class's quartiles as the grade boundaries (D below the first, then C, B, A) "
        "and grade everyone: 52, 64, 71, 77, 80, 85, 88, 93, 97.",
        "1. quantiles(values=[52, 64, 71, 77, 80, 85, 88, 93, 97], n=4)\n"
        "2. letter_grades(scores=[52, 64, 71, 77, 80, 85, 88, 93, 97], "
        'breakpoints="$1.cut_points", grades="DCBA")',
        ("$1.cut_points[0]", "$1.cut_points[2]"),
    ),
    Spec(
        "revenue-peak-growth",
        "chain",
        "Quarterly revenue went 210, 240, 228, 275, 301. Work out each quarter's percent "
        "change and tell me the largest one.",
        "1. percent_changes(values=[210, 240, 228, 275, 301])\n"
        '2. top_values(values="$1.percent", n=1)',
        ("$2.values[0]:1",),
    ),
    Spec(
        "first-half-year-interest",
        "chain",
        "For a 180,000 loan at 5.4% over 20 years, how much of the first 6 payments goes to "
        "interest in total?",
        "1. amortization_schedule(principal=180000, annual_rate=0.054, years=20, months=6)\n"
        '2. describe_numbers(values="$1.interest")',
        ("$2.sum",),
    ),
    Spec(
        "best-region-invested",
        "chain",
        "Sales this month: west laptops 4,200, east phones 3,100, west phones 1,900, north "
        "laptops 2,500, east laptops 2,900. Take the top region's total and tell me what it "
        "grows to in 2 years at 4.5% compounded quarterly.",
        '1. group_totals(sales=[{"region": "west", "product": "laptops", "amount": 4200}, '
        '{"region": "east", "product": "phones", "amount": 3100}, '
        '{"region": "west", "product": "phones", "amount": 1900}, '
        '{"region": "north", "product": "laptops", "amount": 2500}, '
        '{"region": "east", "product": "laptops", "amount": 2900}], by="region")\n'
        '2. compound_interest(principal="$1[0].total", annual_rate=0.045, years=2, '
        "compounds_per_year=4)",
        ("$1[0].group", "$1[0].total", "$2.future_value"),
    ),
    Spec(
        "refinance-after-first",
        "chain",
        "I have a 50,000 loan at 6% over 10 years. What's the balance after the first payment, "
        "and what would the monthly payment be if I refinanced that balance at 4.5% over 9 years?",
        "1. amortization_schedule(principal=50000, annual_rate=0.06, years=10, months=1)\n"
        '2. loan_payment(principal="$1[0].balance", annual_rate=0.045, years=9)',
        ("$1[0].balance", "$2.monthly_payment"),
    ),
    Spec(
        "top-three-discounted",
        "chain",
        "From this list, take the three lines with the highest totals and price them as one "
        "order with 10% off: desk 1 at 240, chair 2 at 95, lamp 3 at 28, monitor 2 at 180, "
        "mat 1 at 35.",
        '1. rank_items(items=[{"name": "desk", "price": 240, "quantity": 1}, '
        '{"name": "chair", "price": 95, "quantity": 2}, '
        '{"name": "lamp", "price": 28, "quantity": 3}, '
        '{"name": "monitor", "price": 180, "quantity": 2}, '
        '{"name": "mat", "price": 35, "quantity": 1}], by="total", top=3)\n'
        '2. order_total(items="$1", discount={"kind": "percent", "value": 10})',
        ("$2.total",),
    ),
    Spec(
        "subscriber-average-change",
        "chain",
        "Our subscriber counts for five months were 1200, 1350, 1290, 1480 and 1610. "
        "What was the average month-over-month change?",
        "1. percent_changes(values=[1200, 1350, 1290, 1480, 1610])\n"
        '2. describe_numbers(values="$1.change")',
        ("$2.mean",),
    ),
    Spec(
        "fractions-three-places",
        "chain",
        "Add 5/8, 7/12 and 1/9, then round the result to three decimals, half up.",
        '1. add_fractions(fractions=["5/8", "7/12", "1/9"])\n'
        '2. round_decimal(value="$1.decimal", places=3, rounding="half_up")',
        ("$1.sum", "$2.value"),
    ),
)
