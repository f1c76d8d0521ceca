"""The demo wishes ``load_demo`` loads with its accounts: residents' wishes in the seed
communities, with support and, for some, the community's reply — the voice of the news ("居民有需
求、社区有服务": 林园's residents asked for 摄影, 烹饪 and 视频剪辑 before the 老年大学 opened).

Posted once, by the demo residents (courses.demo.RESIDENTS); a second load adds nothing.
"""

from django.contrib.auth import get_user_model
from django.utils import timezone

from communities.demo_data import STAFF_USERNAME_PREFIX
from communities.models import Community
from wishes.models import Wish

# (community, kind, title, text, author, supporters, status, reply)
WISHES = (
    ("林园社区", "course", "摄影进阶班",
     "初级班学完了，想继续学人像和风光，最好有外拍活动。",
     "13800000001", ("13800000002", "13800000003", "13800000004"),
     "planned", "已与省老年大学联系，计划下学期开设摄影进阶班，报名时间另行通知。"),
    ("林园社区", "facility", "社区理发点",
     "附近的理发店关了，老人走远路不方便，希望在社区里设一个理发点。",
     "13800000005", ("13800000006", "13800000007"), "open", ""),
    ("林园社区", "service", "上门助浴",
     "家里老人行动不便，洗澡困难，希望有上门助浴服务。",
     "13800000008", ("13800000001",), "open", ""),
    ("安东社区", "course", "书法班",
     "邻里中心有乐器课，希望也能开书法班。",
     "13800000010", (), "done", "书法班已在本学期开课，欢迎报名。"),
    ("大学城社区", "service", "周末托管",
     "双职工家庭周末需要看护孩子，希望邻里中心提供半天托管。",
     "13800000009", ("13800000010",), "open", ""),
)  # fmt: skip


def load_demo_wishes(communities: dict[str, Community]) -> None:
    users = {u.username: u for u in get_user_model().objects.filter(username__startswith="1380")}
    for name, kind, title, text, author, supporters, status, reply in WISHES:
        community = communities.get(name)
        if community is None or author not in users:
            continue
        if Wish.objects.filter(community=community, title=title).exists():
            continue
        wish = Wish.post(
            author=users[author], community=community, kind=kind, title=title, text=text
        )
        for phone in supporters:
            if phone in users:
                Wish.add_support(wish.pk, users[phone])
        if status != Wish.Status.OPEN or reply:
            staff = (
                get_user_model()
                .objects.filter(username=f"{STAFF_USERNAME_PREFIX}{community.slug}")
                .first()
            )
            Wish.objects.filter(pk=wish.pk).update(
                status=status,
                reply=reply,
                replied_at=timezone.now() if reply else None,
                replied_by=staff if reply else None,
            )
