"""The map a point's form shows in the back office (communities.points): the community's streets
where its district has a network, its compounds and its facilities, and the object's own point as
the star, laid out by ``maps.fitted``. Registered with communities.points when the app starts.
Four queries, and two more the first time a process reads the district's streets."""

from communities.models import Community, ResidentialCompound
from facilities import maps, walking
from facilities.models import Facility
from portal.lib import geo


def draw(community: Community, obj) -> maps.MapView:
    compounds = community.compounds.order_by("name")
    facilities = Facility.objects.filter(community=community).order_by("name")
    if isinstance(obj, ResidentialCompound):
        compounds = compounds.exclude(pk=obj.pk)
    if isinstance(obj, Facility):
        facilities = facilities.exclude(pk=obj.pk)
    subject = maps.Place(maps.FACILITY, str(obj), obj.latitude, obj.longitude)
    others = [
        maps.Place(maps.COMPOUND, name, lat, lng)
        for name, lat, lng in compounds.values_list("name", "latitude", "longitude")
    ] + [
        maps.Place(maps.NEIGHBOUR, name, lat, lng)
        for name, lat, lng in facilities.values_list("name", "latitude", "longitude")
    ]
    view = maps.fitted(subject, others)
    walked = walking.for_district(community.subdistrict.district_id)
    if walked is None:
        return view
    # The same layout again, with the streets of the area it came to show under it.
    south, west, north, east = view.bounds
    centre = ((south + north) / 2, (west + east) / 2)
    reach = max(
        geo.distance_m(centre, (north, centre[1])), geo.distance_m(centre, (centre[0], east))
    )
    return maps.fitted(subject, others, streets=walking.segments(walked, centre, reach))
