-- shared_phone: one contact number standing for several customers, the way a rep gets round "one mobile
-- on 3+ customers is flagged" (quality/DEFECTS.md). Numbers are compared as one key (macro
-- normalize_phone: +86 / 0086, spaces, dashes, full-width digits and extensions do not make another
-- number). A customer is flagged when
--   rep_number  its contact number is the mobile of someone in the reps list (the rep's own, or a
--               colleague's: the phone verification would ring the sales team, not the customer), on any
--               number of customers; or
--   shared      its number, or a mobile one digit off it on a customer of the same owner (13812345678 /
--               13812345679: one number made to look different), is on dq_shared_phone_min_customers
--               or more customers (copies of one company, dq_duplicate_customer, count once),
--               unless the group explains itself: the customers share one trade name (a group's head
--               office number on its subsidiaries: 华信科技 / 华信物流 / 华信投资) or one contact name (one
--               real buyer for several companies: a distributor's or agent's purchaser), or they belong
--               to several owners (a number the sales team knows and shares: a distributor serving
--               several reps' accounts; a rep hiding his own number puts it on his own accounts) and
--               it is not a mobile with another contact person on every company (a mobile is one
--               person's: that is a filler number several reps type).
--   edited_in   its number was edited in, replacing another, and is now on 2 or more customers of the
--               owner with another contact person each: the number did not come with the person (a
--               contact who changes jobs brings his name with his number), it was put there.
-- Landlines are compared without their area code (typed with and without it), and whole: a company's
-- direct lines are often consecutive numbers.
with

keys as (

    -- a customer entered twice (dq_duplicate_customer) is one company: its copies on one number are not
    -- three customers sharing it
    select
        customer_name_keys.*,
        coalesce(duplicates.original_customer_id, customer_name_keys.customer_id) as company_id
    from {{ ref('customer_name_keys') }} as customer_name_keys
    left join {{ ref('dq_duplicate_customer') }} as duplicates
        on customer_name_keys.customer_id = duplicates.record_id
    where customer_name_keys.phone_key is not null

),

rep_numbers as (

    select
        {{ phone_local_number(normalize_phone('mobile')) }} as phone_key,
        {{ string_agg_sorted('rep_id', "', '") }} as rep_ids
    from {{ ref('stg_crm__reps') }}
    where mobile is not null
    group by 1

),

-- every mobile with one digit masked, 11 ways: two mobiles one digit apart share one masked form
masked as (

    select
        keys.customer_id,
        keys.owner_rep_id,
        keys.phone_key,
        left(keys.phone_key, position - 1) || '_' || substr(keys.phone_key, position + 1) as masked_key
    from keys
    cross join (select {{ unnest_list(array_literal(range(1, 12) | list)) }} as position) as positions
    where keys.phone_is_mobile

),

-- (customer, customer whose number is the same or one digit off); every customer is its own neighbour
neighbours as (

    select a.customer_id, b.customer_id as neighbour_id, a.phone_key <> b.phone_key as is_near
    from keys as a
    inner join keys as b on a.phone_key = b.phone_key

    union

    -- one digit off counts among one owner's customers: the trick of a rep typing variants of a number
    -- (between unrelated customers, two random mobiles one digit apart happen at 100k customers)
    select a.customer_id, b.customer_id, true
    from masked as a
    inner join masked as b
        on a.masked_key = b.masked_key and a.owner_rep_id = b.owner_rep_id and a.phone_key <> b.phone_key

),

-- a number's group: the customers on it or one digit off it
number_groups as (

    select
        neighbours.customer_id as centre_id,
        count(distinct neighbours.neighbour_id) as customer_count,
        count(distinct keys.company_id) as company_count,
        count(distinct keys.trade_name) as trade_names,
        count(distinct keys.contact_name) as contact_names,
        count(distinct keys.owner_rep_id) as owners,
        count(keys.contact_name) = count(*) as every_contact_named,
        bool_or(neighbours.is_near) as has_near_number,
        bool_and(keys.phone_is_mobile) as is_mobile,
        {{ string_agg_sorted('neighbours.neighbour_id', "', '", distinct=true) }} as customer_ids
    from neighbours
    inner join keys on neighbours.neighbour_id = keys.customer_id
    group by neighbours.customer_id

),

suspicious_groups as (

    select *
    from number_groups
    where
        company_count >= {{ var('dq_shared_phone_min_customers') }}
        and trade_names > 1
        and not (contact_names = 1 and every_contact_named)
        -- a number several reps' accounts share is one the team knows (a distributor's switchboard),
        -- unless it is a mobile and every company on it names another person: a mobile is one person's,
        -- so that is a filler number (13800138000) several reps type
        and (owners = 1 or (is_mobile and contact_names >= company_count))

),

flags as (

    -- every member of a suspicious group (the group of its centre), once, with the largest group (of two
    -- as large, the one whose customer ids come first)
    select
        neighbours.neighbour_id as customer_id,
        'shared' as reason,
        suspicious_groups.customer_count,
        suspicious_groups.customer_ids,
        suspicious_groups.has_near_number,
        cast(null as string) as rep_ids
    from suspicious_groups
    inner join neighbours on suspicious_groups.centre_id = neighbours.customer_id
    qualify row_number() over (
        partition by neighbours.neighbour_id
        order by suspicious_groups.customer_count desc, suspicious_groups.customer_ids
    ) = 1

),

-- customers whose number was changed in a later version (the raw extracts hold every version)
edited_numbers as (

    select customer_id
    from (
        select
            {{ from_text('customer_id') }} as customer_id,
            {{ phone_local_number(normalize_phone('contact_mobile')) }} as phone_key
        from {{ source('crm', 'customers') }}
        where {{ as_of_condition(source('crm', 'customers')) }}
    )
    where phone_key is not null
    group by customer_id
    having count(distinct phone_key) > 1

),

-- the edited-in numbers, per owner
edited_in_groups as (

    select
        keys.owner_rep_id,
        keys.phone_key,
        count(*) as customer_count,
        {{ string_agg_sorted('keys.customer_id', "', '") }} as customer_ids,
        count(distinct keys.contact_name) as contacts
    from keys
    inner join edited_numbers on keys.customer_id = edited_numbers.customer_id
    group by keys.owner_rep_id, keys.phone_key

),

edited_in_flags as (

    select
        keys.customer_id,
        'edited_in' as reason,
        edited_in_groups.customer_count,
        edited_in_groups.customer_ids,
        false as has_near_number,
        cast(null as string) as rep_ids,
        edited_in_groups.contacts
    from keys
    inner join edited_numbers on keys.customer_id = edited_numbers.customer_id
    inner join edited_in_groups
        on
            keys.owner_rep_id is not distinct from edited_in_groups.owner_rep_id
            and keys.phone_key = edited_in_groups.phone_key

),

rep_number_flags as (

    select
        keys.customer_id,
        'rep_number' as reason,
        cast(null as bigint) as customer_count,
        cast(null as string) as customer_ids,
        false as has_near_number,
        rep_numbers.rep_ids
    from keys
    inner join rep_numbers on keys.phone_key = rep_numbers.phone_key

),

-- a rep's number wins over a shared one (it says more)
all_flags as (

    select *, row_number() over (partition by customer_id order by reason desc) as pick
    from (
        select * from rep_number_flags
        union all
        select * from flags
        union all
        select customer_id, reason, customer_count, customer_ids, has_near_number, rep_ids
        from edited_in_flags
        where customer_count >= 2 and contacts = customer_count
    )

),

final as (

    select
        'shared_phone' as rule_id,
        'customers' as entity,
        keys.customer_id as record_id,
        keys.owner_rep_id as rep_id,
        case
            when all_flags.reason = 'rep_number'
                then '联系电话 ' || {{ mask_phone('keys.phone_key') }} || ' 是销售人员 ' || all_flags.rep_ids
                || ' 的手机号 / the contact number is the mobile of rep ' || all_flags.rep_ids
            when all_flags.reason = 'edited_in'
                then '联系电话 ' || {{ mask_phone('keys.phone_key') }} || ' 是后来改填的，现与 '
                || all_flags.customer_count || ' 个客户共用、联系人各不相同 / the number was edited in and is now on '
                || all_flags.customer_count || ' customers, each with another contact: ' || all_flags.customer_ids
            else '同一号码' || case when all_flags.has_near_number then '（含只差一位的号码）' else '' end
                || ' ' || {{ mask_phone('keys.phone_key') }} || ' 出现在 ' || all_flags.customer_count
                || ' 个客户 / same number'
                || case when all_flags.has_near_number then ' (or one digit off)' else '' end
                || ' on ' || all_flags.customer_count || ' customers: ' || all_flags.customer_ids
        end as evidence,
        -- the delivery of the version that carries the number
        keys._extract_date as first_seen_date,
        cast(null as decimal(18, 2)) as amount
    from all_flags
    inner join keys on all_flags.customer_id = keys.customer_id
    where all_flags.pick = 1

)

select * from final
