"""The product read of the storefront in the seed's async Python stack, for the benchmark's side-by-side steps.

FastAPI + asyncpg + aiohttp under uvicorn (uvloop, httptools), doing what GetProduct does: the product row, stock and
rating at the same time, the row kept for a minute once read (only rows that exist), the price converted with cached
FX rates, each service call bounded by 250 ms and the whole
read by 800 ms, a part that fails or runs out of time left null and named in "degraded". Started by Program.cs with
STOREFRONT_PG_DSN and STOREFRONT_SERVICES_URL in the environment.
"""

import asyncio
import os
import time
from decimal import ROUND_HALF_UP, Decimal

import aiohttp
import asyncpg
from fastapi import FastAPI
from fastapi.responses import JSONResponse

SERVICE_TIMEOUT = 0.25
REQUEST_BUDGET = 0.8
FX_TTL = 300.0
PRODUCT_TTL = 60.0
POOL_SIZE = 20  # per worker: 40 in all, as the .NET variants

app = FastAPI()
state = {}


@app.on_event("startup")
async def startup():
    state["pool"] = await asyncpg.create_pool(os.environ["STOREFRONT_PG_DSN"], min_size=POOL_SIZE, max_size=POOL_SIZE)
    # No cap on connections per host (aiohttp's default is 100 per session), as .NET's SocketsHttpHandler: a capped
    # pool would make calls queue for a connection and time out for the client's sake, not the service's.
    state["http"] = aiohttp.ClientSession(
        base_url=os.environ["STOREFRONT_SERVICES_URL"],
        timeout=aiohttp.ClientTimeout(total=SERVICE_TIMEOUT),
        connector=aiohttp.TCPConnector(limit=0))
    state["fx"] = (0.0, None)
    state["products"] = {}
    state["fx_lock"] = asyncio.Lock()
    await rates()


@app.on_event("shutdown")
async def shutdown():
    await state["http"].close()
    await state["pool"].close()


async def get_json(path):
    async with state["http"].get(path) as response:
        if response.status == 404:
            return None
        response.raise_for_status()
        return await response.json()


async def rates():
    fetched_at, value = state["fx"]
    if value is not None and time.monotonic() - fetched_at < FX_TTL:
        return value
    async with state["fx_lock"]:
        fetched_at, value = state["fx"]
        if value is None or time.monotonic() - fetched_at >= FX_TTL:
            value = (await get_json("/rates?base=USD"))["rates"]
            state["fx"] = (time.monotonic(), value)
        return value


async def row(sku):
    cached = state["products"].get(sku)
    if cached is not None and time.monotonic() - cached[0] < PRODUCT_TTL:
        return cached[1]
    async with state["pool"].acquire() as connection:
        found = await connection.fetchrow("SELECT sku, name, description, price_usd FROM products WHERE sku = $1", sku)
    if found is not None:
        state["products"][sku] = (time.monotonic(), found)
    return found


async def outcome(awaitable):
    try:
        return await awaitable, False
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError, KeyError):
        return None, True


@app.get("/api/products/{sku}")
async def get_product(sku: str, currency: str = "USD"):
    currency = currency.upper()
    started = time.monotonic()
    product = asyncio.ensure_future(row(sku))
    stock = asyncio.ensure_future(outcome(get_json(f"/stock/{sku}")))
    rating = asyncio.ensure_future(outcome(get_json(f"/reviews/{sku}/summary")))
    fx = asyncio.ensure_future(outcome(rates())) if currency != "USD" else None
    try:
        found = await asyncio.wait_for(product, REQUEST_BUDGET)
    except (OSError, asyncpg.PostgresError, asyncio.TimeoutError):
        for task in (stock, rating, fx):
            if task is not None:
                task.cancel()
        return JSONResponse({"title": "The catalog is temporarily unavailable."}, status_code=503, headers={"Retry-After": "2"})
    if found is None:
        for task in (stock, rating, fx):
            if task is not None:
                task.cancel()
        return JSONResponse({"title": f"No product with sku '{sku}'."}, status_code=404)

    pending = [task for task in (stock, rating, fx) if task is not None]
    remaining = max(0.0, REQUEST_BUDGET - (time.monotonic() - started))
    await asyncio.wait(pending, timeout=remaining)
    degraded = []

    def result(task, name):
        if task.done() and not task.cancelled():
            value, failed = task.result()
            if not failed:
                return value
        task.cancel()
        degraded.append(name)
        return None

    stock_value = result(stock, "inventory")
    rating_value = result(rating, "reviews")
    if stock_value is None and "inventory" not in degraded:
        degraded.append("inventory")
    price_usd = found["price_usd"]
    price = {"amount": float(price_usd), "currency": "USD"}
    if fx is not None:
        table = result(fx, "fx")
        if table is not None:
            if currency not in table:
                return JSONResponse({"title": f"'{currency}' is not a supported currency."}, status_code=400)
            amount = (price_usd * Decimal(str(table[currency]))).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
            price = {"amount": float(amount), "currency": currency}
    return {
        "sku": found["sku"],
        "name": found["name"],
        "description": found["description"],
        "price": price,
        "stock": None if stock_value is None else {"available": stock_value["available"], "warehouse": stock_value["warehouse"]},
        "rating": None if rating_value is None else {"average": rating_value["average"], "count": rating_value["count"]},
        "degraded": degraded,
    }
