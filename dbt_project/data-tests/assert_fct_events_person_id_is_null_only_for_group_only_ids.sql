-- Every event has a person, except the events of group-only distinct ids (docs/persons.md), which
-- never have one. The rule is restated here from fct_events alone, independently of
-- int_group_only_distinct_ids, so that the test has one parent (Airflow builds model by model)
-- and checks the model rather than repeating it. Returns the events that break the rule.
{%- set configured_ids = var('group_only_distinct_ids') %}
with

events as (

    select * from {{ ref('fct_events') }}

),

server_group_identify_ids as (

    select distinct
        project_id,
        distinct_id

    from events
    where
        event = '$groupidentify'
        and distinct_id = '$' || {{ gw_json_text('properties', '$group_type') }}
        || '_' || {{ gw_json_text('properties', '$group_key') }}

),

final as (

    select
        events.project_id,
        events.event_uuid,
        events.distinct_id,
        events.person_id

    from events
    left join server_group_identify_ids
        on
            events.project_id = server_group_identify_ids.project_id
            and events.distinct_id = server_group_identify_ids.distinct_id
    where
        (events.person_id is null) <> (
            server_group_identify_ids.distinct_id is not null
            {%- for distinct_id in configured_ids %}
                or events.distinct_id = '{{ distinct_id | replace("'", "''") }}'
            {%- endfor %}
        )

)

select * from final
