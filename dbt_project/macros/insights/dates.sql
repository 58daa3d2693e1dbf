{#-
    Dates and periods of insights.

    Dates resolve as PostHog's QueryDateRange does, against the run's logical date (var `run_date`)
    instead of the wall clock: "now" is the last microsecond of `run_date` in the project's time zone.
    All resolution happens on wall-clock (local) time, so it gives the same local timestamps for
    every project; SQL then turns them into UTC instants with each project's time zone.

    Periods are numbered from the Unix epoch so that "the next period" is always index + 1:
      hour  — UTC hours since 1970-01-01 (local hour starts in zones with whole-hour offsets; the
              day DST ends has 25 of them, as in PostHog);
      day   — local days since 1970-01-01;
      week  — local weeks, starting on var `insight_week_start` (Sunday by default);
      month — local calendar months since January 1970.
-#}

{#- A resolved date as 'YYYY-MM-DD HH:MM:SS.ffffff' (local wall clock), or none for 'all'.
    `spec` is a normalised date (compile.py `_date_spec`), `edge` is 'from' or 'to'. PostHog's rules:
    date_from defaults to 7 days ago and starts at 00:00 (relative hours: at the hour); date_to
    defaults to now and, except for hourly relative dates, covers its whole day. An absolute date
    counts by its date alone (a time or offset written after it is ignored). -#}
{% macro gw_insight_resolve_date(spec, edge, interval) -%}
    {%- set dt = modules.datetime -%}
    {%- set run_day = dt.datetime.strptime(var('run_date') | string, '%Y-%m-%d') -%}
    {%- set now = run_day.replace(hour=23, minute=59, second=59, microsecond=999999) -%}
    {%- if spec is none -%}
        {%- if edge == 'from' -%}
            {%- set value = (now - dt.timedelta(days=7)).replace(hour=0, minute=0, second=0, microsecond=0) -%}
        {%- else -%}
            {%- set value = now -%}
        {%- endif -%}
    {%- elif spec.kind == 'all' -%}
        {{ return(none) }}
    {%- elif spec.kind == 'absolute' -%}
        {%- set day = dt.datetime.strptime(spec.date, '%Y-%m-%d') -%}
        {%- if edge == 'from' -%}
            {%- set value = day -%}
        {%- else -%}
            {%- set value = day.replace(hour=23, minute=59, second=59, microsecond=999999) -%}
        {%- endif -%}
    {%- else -%}
        {%- set moved = gw_insight_relative_date(now, spec) -%}
        {%- if edge == 'from' -%}
            {%- if spec.unit == 'h' and spec.amount is not none -%}
                {%- set value = moved.replace(minute=0, second=0, microsecond=0) -%}
            {%- else -%}
                {%- set value = moved.replace(hour=0, minute=0, second=0, microsecond=0) -%}
            {%- endif -%}
        {%- elif interval == 'hour' -%}
            {%- set value = moved.replace(minute=59, second=59, microsecond=999999) -%}
        {%- else -%}
            {%- set value = moved.replace(hour=23, minute=59, second=59, microsecond=999999) -%}
        {%- endif -%}
    {%- endif -%}
    {{ return(value.strftime('%Y-%m-%d %H:%M:%S.%f')) }}
{%- endmacro %}

{#- `now` moved back by a relative date (`-7d`, `-1mStart`, `yStart`…) the way PostHog applies
    dateutil's relativedelta: absolute fields (day=1 for mStart…) replace, amounts go back, months
    clamp to the month's last day. Returns a datetime. -#}
{% macro gw_insight_relative_date(now, spec) -%}
    {%- set dt = modules.datetime -%}
    {%- set amount = spec.amount if spec.amount is not none else 0 -%}
    {%- set moves = {'years': 0, 'months': 0, 'days': 0, 'hours': 0} -%}
    {%- set fields = {} -%}
    {%- if spec.unit == 'h' -%}
        {%- do moves.update({'hours': amount}) -%}
        {%- if spec.position == 'Start' -%}
            {%- do fields.update({'minute': 0, 'second': 0, 'microsecond': 0}) -%}
        {%- elif spec.position == 'End' -%}
            {%- do fields.update({'minute': 59, 'second': 59, 'microsecond': 999999}) -%}
        {%- endif -%}
    {%- elif spec.unit == 'd' -%}
        {%- do moves.update({'days': amount}) -%}
        {%- if spec.position == 'Start' -%}
            {%- do fields.update({'hour': 0, 'minute': 0, 'second': 0, 'microsecond': 0}) -%}
        {%- elif spec.position == 'End' -%}
            {%- do fields.update({'hour': 23, 'minute': 59, 'second': 59, 'microsecond': 999999}) -%}
        {%- endif -%}
    {%- elif spec.unit == 'w' -%}
        {%- do moves.update({'days': 7 * amount}) -%}
    {%- elif spec.unit == 'm' -%}
        {%- do moves.update({'months': amount}) -%}
        {%- if spec.position == 'Start' -%}
            {%- do fields.update({'day': 1}) -%}
        {%- elif spec.position == 'End' -%}
            {%- do fields.update({'day': 31}) -%}
        {%- endif -%}
    {%- elif spec.unit == 'q' -%}
        {%- do moves.update({'days': 91 * amount}) -%}
    {%- elif spec.unit == 'y' -%}
        {%- do moves.update({'years': amount}) -%}
        {%- if spec.position == 'Start' -%}
            {%- do fields.update({'month': 1, 'day': 1}) -%}
        {%- elif spec.position == 'End' -%}
            {%- do fields.update({'day': 31}) -%}
        {%- endif -%}
    {%- endif -%}
    {%- set months_total = (now.year - moves.years) * 12 + (fields.get('month', now.month) - 1) - moves.months -%}
    {%- set year = months_total // 12 -%}
    {%- set month = months_total % 12 + 1 -%}
    {%- set month_length = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day -%}
    {%- set day = [month_length, fields.get('day', now.day)] | min -%}
    {%- set moved = now.replace(
        year=year,
        month=month,
        day=day,
        hour=fields.get('hour', now.hour),
        minute=fields.get('minute', now.minute),
        second=fields.get('second', now.second),
        microsecond=fields.get('microsecond', now.microsecond)
    ) -%}
    {{ return(moved - dt.timedelta(days=moves.days, hours=moves.hours)) }}
{%- endmacro %}

{#- The Unix epoch as a timestamp literal. -#}
{% macro gw_insight_epoch() -%}
    cast('1970-01-01 00:00:00' as timestamp)
{%- endmacro %}

{#- Days from the start of its week to 1970-01-01 (a Thursday): 4 for Sunday weeks, 3 for Monday. -#}
{% macro gw_insight_week_offset() -%}
    {{ return(4 if gw_insight_week_start() == 'sunday' else 3) }}
{%- endmacro %}

{#- The period index (see the top of this file) of an instant given as UTC and as local time. -#}
{% macro gw_insight_period_index(unit, utc_timestamp, local_timestamp) -%}
    {%- if unit == 'hour' -%}
        {{ dbt.datediff(gw_insight_epoch(), utc_timestamp, 'hour') }}
    {%- elif unit == 'day' -%}
        {{ dbt.datediff(gw_insight_epoch(), local_timestamp, 'day') }}
    {%- elif unit == 'week' -%}
        cast(floor(({{ dbt.datediff(gw_insight_epoch(), local_timestamp, 'day') }} + {{ gw_insight_week_offset() }}) / 7.0) as bigint)
    {%- elif unit == 'month' -%}
        {{ dbt.datediff(gw_insight_epoch(), local_timestamp, 'month') }}
    {%- else -%}
        {{ exceptions.raise_compiler_error("unknown interval '" ~ unit ~ "'") }}
    {%- endif -%}
{%- endmacro %}

{#- The local wall-clock start (naive timestamp) of period `period_index`. -#}
{% macro gw_insight_period_start(unit, period_index, timezone) -%}
    {%- if unit == 'hour' -%}
        {{ gw_to_local_timestamp(dbt.dateadd('hour', period_index, gw_insight_epoch()), timezone) }}
    {%- elif unit == 'day' -%}
        {{ dbt.dateadd('day', period_index, gw_insight_epoch()) }}
    {%- elif unit == 'week' -%}
        {{ dbt.dateadd('day', '(' ~ period_index ~ ') * 7 - ' ~ gw_insight_week_offset(), gw_insight_epoch()) }}
    {%- elif unit == 'month' -%}
        {{ dbt.dateadd('month', period_index, gw_insight_epoch()) }}
    {%- else -%}
        {{ exceptions.raise_compiler_error("unknown interval '" ~ unit ~ "'") }}
    {%- endif -%}
{%- endmacro %}

{#- The UTC instant (naive timestamp) at which period `period_index` starts. -#}
{% macro gw_insight_period_start_utc(unit, period_index, timezone) -%}
    {%- if unit == 'hour' -%}
        {{ dbt.dateadd('hour', period_index, gw_insight_epoch()) }}
    {%- else -%}
        {{ gw_local_to_utc(gw_insight_period_start(unit, period_index, timezone), timezone) }}
    {%- endif -%}
{%- endmacro %}

{#- The same for a row-dependent unit (a column holding 'hour', 'day', 'week' or 'month'). -#}
{% macro gw_insight_period_start_by_unit(unit_column, period_index, timezone) -%}
    case {{ unit_column }}
        {%- for unit in ['hour', 'day', 'week', 'month'] %}
        when '{{ unit }}' then {{ gw_insight_period_start(unit, period_index, timezone) }}
        {%- endfor %}
    end
{%- endmacro %}

{% macro gw_insight_period_start_utc_by_unit(unit_column, period_index, timezone) -%}
    case {{ unit_column }}
        {%- for unit in ['hour', 'day', 'week', 'month'] %}
        when '{{ unit }}' then {{ gw_insight_period_start_utc(unit, period_index, timezone) }}
        {%- endfor %}
    end
{%- endmacro %}

{#- Index of the local day (or, for hourly insights, the local wall-clock hour) of a local
    timestamp: the grain of PostHog's weekly/monthly active windows. -#}
{% macro gw_insight_activity_index(unit, local_timestamp) -%}
    {%- if unit == 'hour' -%}
        {{ dbt.datediff(gw_insight_epoch(), dbt.date_trunc('hour', local_timestamp), 'hour') }}
    {%- else -%}
        {{ dbt.datediff(gw_insight_epoch(), local_timestamp, 'day') }}
    {%- endif -%}
{%- endmacro %}
