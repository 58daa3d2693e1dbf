-- One row per declared insight and project: what the insight is (kind, name, its normalised
-- definition and PostHog query) and the range it covers, resolved against var `run_date` in the
-- project's time zone. Every insight is computed for every project. The other insight marts read
-- their ranges from here, and `gw insight` reads the kind and the definition.
{%- set insights = gw_insights() %}

with

projects as (

    select * from {{ ref('stg_lake__projects') }}

),
{%- if gw_insights_need_earliest(insights) %}

    events as (

        select * from {{ ref('fct_events') }}

    ),

    earliest_events as (

        -- date_from 'all' starts on the local day of the project's first event
        select
            events.project_id,
            {{ dbt.date_trunc('day', gw_to_local_timestamp('min(events.timestamp)', 'min(projects.project_timezone)')) }}
                as first_event_local_day

        from events
        inner join projects
            on events.project_id = projects.project_id
        group by events.project_id

    ),
{%- endif %}
{%- for insight in insights %}

    insight_{{ loop.index }}_final as (
        {{ gw_insight_catalog_select(insight) }}
    ),
{%- endfor %}

unioned as (
    {{ gw_insight_union_finals(insights | length, [
        ('insight_id', dbt.type_string()),
        ('project_id', 'bigint'),
        ('insight_kind', dbt.type_string()),
        ('insight_name', dbt.type_string()),
        ('insight_description', dbt.type_string()),
        ('interval_unit', dbt.type_string()),
        ('week_start_day', dbt.type_string()),
        ('project_timezone', dbt.type_string()),
        ('run_date', 'date'),
        ('date_from', 'timestamp'),
        ('date_to', 'timestamp'),
        ('first_interval_index', 'bigint'),
        ('last_interval_index', 'bigint'),
        ('lookahead_intervals', 'integer'),
        ('definition', dbt.type_string()),
    ]) }}
),

final as (

    select
        -- keys
        insight_id,
        project_id,

        -- attributes
        insight_kind,
        insight_name,
        insight_description,
        interval_unit,
        week_start_day,
        project_timezone,
        cast(first_interval_index as bigint) as first_interval_index,
        cast(last_interval_index as bigint) as last_interval_index,
        cast(greatest(last_interval_index - first_interval_index + 1, 0) as bigint) as interval_count,
        lookahead_intervals,
        definition,

        -- dates: local wall clock of the project, and the same instants in UTC
        run_date,
        date_from,
        date_to,
        {{ gw_local_to_utc('date_from', 'project_timezone') }} as date_from_at,
        {{ gw_local_to_utc('date_to', 'project_timezone') }} as date_to_at

    from unioned

)

select * from final
