-- MetricFlow's time spine: one row per calendar day from 2000-01-01 to 2099-12-31. Cumulative
-- metrics (weekly and monthly active groups) join it to find each day's trailing window. A fixed
-- range, so the model never reads the wall clock.
with

calendar_days as (

    select calendar.date_day
    from {{ gw_date_series("'2000-01-01'", "'2099-12-31'") }} as calendar

),

final as (

    select cast(calendar_days.date_day as date) as date_day
    from calendar_days

)

select * from final
