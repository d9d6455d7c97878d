"""What a route learns from ``BrokerOutages`` after handling a message."""

from __future__ import annotations

import asyncio

import pytest

from hub.broker.outages import BrokerOutages


async def test_no_outage_since_the_mark_answers_at_once() -> None:
    outages = BrokerOutages()
    mark = outages.mark()
    assert await outages.lost_log_since(mark) is False


async def test_an_outage_after_which_the_broker_kept_its_log_is_not_a_loss() -> None:
    outages = BrokerOutages()
    mark = outages.mark()
    outages.begin()
    outages.end()
    assert await outages.lost_log_since(mark) is False


async def test_an_outage_after_which_the_topics_were_created_again_is_a_loss() -> None:
    outages = BrokerOutages()
    mark = outages.mark()
    outages.begin()
    outages.log_lost()
    outages.end()
    assert await outages.lost_log_since(mark) is True
    assert await outages.lost_log_since(outages.mark()) is False  # the next message is fine


@pytest.mark.parametrize("marked", ["before the outage", "during the outage"])
async def test_the_verdict_is_awaited_while_the_outage_goes_on(marked: str) -> None:
    outages = BrokerOutages()
    if marked == "during the outage":
        outages.begin()  # no new outage begins after the mark: it waits all the same
    mark = outages.mark()
    if marked == "before the outage":
        outages.begin()
    verdict = asyncio.create_task(outages.lost_log_since(mark))
    await asyncio.sleep(0.05)
    assert not verdict.done()
    outages.log_lost()
    outages.end()
    assert await asyncio.wait_for(verdict, 1) is True
