-- The group deletion requests (who, when, which project and type) and what the build did about
-- them: events detached from the group or removed, and `$groupidentify` updates removed. The
-- group key is deliberately not here (a deleted group leaves no trace in the marts): the request
-- log (deletions/group_deletions.jsonl) holds it under the same request_id. A group asked to be
-- deleted twice is deleted under its first request (deletion_id); every request shows the counts.
with

group_deletions as (

    select * from {{ ref('stg_warehouse__group_deletions') }}

),

deletion_matches as (

    select * from {{ ref('int_group_deletion_matches') }}

),

ranked_requests as (

    select
        *,
        first_value(request_id) over (
            partition by project_id, group_type, group_key
            order by requested_at, request_id
        ) as deletion_id

    from group_deletions

),

deletion_effects as (

    select
        deletion_id,
        count(distinct case when match_kind = 'event' then event_uuid end) as events_matched,
        count(distinct case when match_kind = 'group_identify' then event_uuid end)
            as group_identifies_removed

    from deletion_matches
    group by deletion_id

),

final as (

    select
        -- keys
        ranked_requests.request_id,

        -- foreign keys
        ranked_requests.deletion_id,
        ranked_requests.project_id,

        -- attributes
        ranked_requests.group_type,
        ranked_requests.requested_by,
        ranked_requests.reason,
        '{{ var("group_deletion_events") }}' as events_policy,

        -- timestamps
        ranked_requests.requested_at,

        -- measures
        {%- if var('group_deletion_events') == 'remove' %}
            cast(0 as bigint) as events_detached,
            coalesce(deletion_effects.events_matched, 0) as events_removed,
        {%- else %}
            coalesce(deletion_effects.events_matched, 0) as events_detached,
            cast(0 as bigint) as events_removed,
        {%- endif %}
        coalesce(deletion_effects.group_identifies_removed, 0) as group_identifies_removed

    from ranked_requests
    left join deletion_effects
        on ranked_requests.deletion_id = deletion_effects.deletion_id

)

select * from final
