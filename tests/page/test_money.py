"""The page's money sums and reason words (money.js, format.js) in the browser."""

from __future__ import annotations

from tests.page.browser import (
    Tab,
)


def test_money_sums_are_exact_and_reasons_read_as_words(tab: Tab) -> None:
    tab.goto("/")
    result = tab.page.evaluate(
        """async () => {
          const m = await import('/static/js/money.js');
          const f = await import('/static/js/format.js');
          const sum = (...xs) => m.formatCents(xs.map(m.toCents).reduce((a, b) => a + b, 0n),
                                               { signed: true });
          return {
            tenths: sum('0.10', '0.20'),
            big: sum('99999999999999.99', '0.01', '-0.02'),
            negative: sum('-45.00', '12.5'),
            zero: sum('-1.01', '1.01'),
            plain: m.formatMoney('1234567.80'),
            reasons: ['auto_profit_target', 'auto_stop_loss', 'auto_threshold', 'manual',
                      'profit_target', 'AUTO_TRAILING-stop', 'weird__thing', null, '']
                     .map(f.reasonLabel),
          };
        }"""
    )
    assert result == {
        "tenths": "+0.30",
        "big": "+99,999,999,999,999.98",
        "negative": "−32.50",
        "zero": "±0.00",
        "plain": "1,234,567.80",
        "reasons": [
            "Profit target",
            "Stop loss",
            "Threshold",
            "Manual",
            "Profit target",
            "Trailing stop",
            "Weird thing",
            None,
            None,
        ],
    }
